// Bots' outgoing webhooks, from a message sent in the room to a signed POST at the tests' webhook
// receiver (tests/support/webhook-receiver.ts): which messages go, in what order, signed how,
// retried how, and turned off after failing, with a notice to the room's admins.
import { describe, expect, inject, it, vi } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { outgoingWebhooks } from '$shared/db/schema';
import {
	DELIVERY_TIMEOUT_SECONDS,
	WEBHOOK_MAX_FAILURES as MAX_FAILURES,
	WEBHOOK_RETRY_BASE_MS as RETRY_BASE_MS,
	WEBHOOK_EVENT_ID_HEADER,
	WEBHOOK_ID_HEADER,
	WEBHOOK_SIGNATURE_HEADER,
	verifyWebhookSignature,
	type WebhookEvent
} from '$shared/webhook-event';
import { createBot } from '$lib/server/bots/bots';
import { deleteOutgoingWebhook, saveOutgoingWebhook } from '$lib/server/bots/outgoing-webhooks';
import { listInbox } from '$lib/server/notifications/inbox';
import { grantMembership } from '$lib/server/rooms/rooms';
import {
	MAX_QUEUED_EVENTS,
	retryDelay,
	type OutboxEnv,
	type WebhookOutbox
} from '../../../workers/realtime/src/webhook-outbox';
import { connect, db, seedRoom, type TestSocket } from '../../helpers';
import { connectHub, rt, seedPerson, setRole } from '../../support/people';
import { WebhookReceiverClient, type WebhookDelivery } from '../../support/webhook-receiver-client';

const DELIVERY_TIMEOUT_MS = DELIVERY_TIMEOUT_SECONDS * 1000;
const receiver = () => new WebhookReceiverClient(inject('webhookReceiverPort'));

/** The worker as `npm run dev` runs it: a loopback receiver is reached over plain http. */
const devEnv: OutboxEnv = { ...env, APP_ENV: 'development' };

type Who = Awaited<ReturnType<typeof seedPerson>>;
const actor = (who: Who) => ({ id: who.id, displayName: who.displayName, username: who.username });

function outboxStub(hookId: string) {
	return env.WEBHOOKS.get(env.WEBHOOKS.idFromName(hookId));
}

/**
 * A room with a bot whose outgoing webhook points at a fresh inbox of the receiver; its outbox
 * delivers as in development (set before any event reaches it).
 */
async function roomWithWebhook(events: 'messages' | 'mentions' = 'messages') {
	const owner = await seedPerson('olga');
	const member = await seedPerson('mo');
	const roomId = await seedRoom(owner, member);
	const made = await createBot(db(), rt(), actor(owner), roomId, 'Deploys');
	if (!made.ok) throw new Error(made.message);
	const inbox = await receiver().inbox();
	const saved = await saveOutgoingWebhook(
		db(),
		rt(),
		actor(owner),
		roomId,
		made.bot.id,
		{ url: inbox.url, events },
		{ production: false }
	);
	if (!saved.ok || !saved.secret) throw new Error('the webhook was not made');
	const [row] = await db()
		.select()
		.from(outgoingWebhooks)
		.where(eq(outgoingWebhooks.botId, made.bot.id));
	const hookId = row!.id;
	const outbox = outboxStub(hookId);
	await runInDurableObject(outbox, (instance: WebhookOutbox) => {
		instance.deliveryEnv = devEnv;
	});
	return { owner, member, roomId, bot: made.bot, inbox, secret: saved.secret, hookId, outbox };
}

async function send(socket: TestSocket, clientId: string, body: string): Promise<number> {
	socket.send({ type: 'send', clientId, body });
	const ack = await socket.next('ack', (f) => f.clientId === clientId);
	return ack.seq;
}

/** Waits until the inbox has `count` deliveries answered 2xx, and answers all it has. */
async function delivered(inboxId: string, count: number): Promise<WebhookDelivery[]> {
	return vi.waitFor(
		async () => {
			const all = await receiver().deliveries(inboxId);
			const ok = all.filter((d) => d.status < 300);
			if (ok.length < count) throw new Error(`${ok.length} of ${count} delivered`);
			return all;
		},
		{ timeout: 5000, interval: 50 }
	);
}

const eventOf = (delivery: WebhookDelivery) => JSON.parse(delivery.body) as WebhookEvent;

async function hookRow(hookId: string) {
	const [row] = await db().select().from(outgoingWebhooks).where(eq(outgoingWebhooks.id, hookId));
	return row;
}

describe('outgoing webhooks: what is delivered', () => {
	it('POSTs each new message once, in order, signed with the secret shown when it was made', async () => {
		const { member, roomId, bot, inbox, secret, hookId } = await roomWithWebhook();
		const socket = await connect(roomId, member, 0);
		const seqs = [];
		for (let i = 1; i <= 5; i++) seqs.push(await send(socket, `m${i}`, `message ${i}`));

		const deliveries = await delivered(inbox.id, 5);
		expect(deliveries).toHaveLength(5);
		const events = deliveries.map(eventOf);
		expect(events.map((e) => e.message.body)).toEqual([1, 2, 3, 4, 5].map((i) => `message ${i}`));
		expect(events.map((e) => e.message.seq)).toEqual(seqs);
		for (const [i, delivery] of deliveries.entries()) {
			const event = events[i]!;
			expect(event).toMatchObject({
				type: 'message',
				id: `${roomId}:${seqs[i]}`,
				webhookId: hookId,
				room: { id: roomId, name: 'Test room' },
				bot: { id: bot.id, username: bot.username },
				mentioned: false,
				message: { senderId: member.id, senderName: member.displayName, kind: 'text' }
			});
			expect(delivery.headers['content-type']).toBe('application/json');
			expect(delivery.headers[WEBHOOK_ID_HEADER.toLowerCase()]).toBe(hookId);
			expect(delivery.headers[WEBHOOK_EVENT_ID_HEADER.toLowerCase()]).toBe(event.id);
			const signature = delivery.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()]!;
			expect(await verifyWebhookSignature(secret, signature, delivery.body)).toBe(true);
			// Signed over the body as sent: a changed byte, or another secret, does not verify.
			expect(await verifyWebhookSignature(secret, signature, delivery.body + ' ')).toBe(false);
			expect(await verifyWebhookSignature(`${secret}x`, signature, delivery.body)).toBe(false);
		}
		expect((await hookRow(hookId))?.lastDeliveredAt).not.toBeNull();
		socket.close();
	});

	it('with "mentions", delivers only messages that mention its bot, and never the bot’s own', async () => {
		const { owner, member, roomId, bot, inbox } = await roomWithWebhook('mentions');
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'nothing for the bot');
		const mentionSeq = await send(socket, 'b', `@${bot.username} deploy please`);
		await send(socket, 'c', `@${owner.username} not the bot either`);
		const botSocket = await connect(
			roomId,
			{ id: bot.id, name: bot.displayName, username: bot.username },
			0
		);
		await send(botSocket, 'own', `@${bot.username} talking to myself`);
		const lastSeq = await send(socket, 'd', `thanks @${bot.username}`);

		// In order: by the time the last message is there, any wrongly sent one would be too.
		const events = (await delivered(inbox.id, 2)).map(eventOf);
		expect(events.map((e) => [e.message.seq, e.mentioned])).toEqual([
			[mentionSeq, true],
			[lastSeq, true]
		]);
		socket.close();
		botSocket.close();
	});

	it('sends nothing once the webhook is deleted, and drops what waited for it', async () => {
		const { owner, member, roomId, bot, inbox, outbox } = await roomWithWebhook();
		await receiver().answerNext(inbox.id, { status: 503, count: 100 });
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'one');
		await vi.waitFor(async () => expect(await receiver().deliveries(inbox.id)).toHaveLength(1), {
			timeout: 5000,
			interval: 50
		});
		const removed = await deleteOutgoingWebhook(db(), rt(), actor(owner), roomId, bot.id);
		expect(removed.ok).toBe(true);
		await send(socket, 'b', 'two');
		await new Promise((resolve) => setTimeout(resolve, 600));
		// The retry finds no webhook: the queue goes, and nothing more is sent.
		await runDurableObjectAlarm(outbox);
		expect(await outbox.queued()).toBe(0);
		expect(await receiver().deliveries(inbox.id)).toHaveLength(1);
		socket.close();
	});
});

describe('outgoing webhooks: failures', () => {
	it('holds the queue on a failure and retries with a doubling wait, in order, until it goes through', async () => {
		const { member, roomId, inbox, hookId, outbox } = await roomWithWebhook();
		await receiver().answerNext(inbox.id, { status: 500, count: 2 });
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'first');
		await send(socket, 'b', 'second');
		await vi.waitFor(async () => expect(await receiver().deliveries(inbox.id)).toHaveLength(1), {
			timeout: 5000,
			interval: 50
		});
		// Both wait behind the failed first: nothing overtakes it.
		await vi.waitFor(async () => expect(await outbox.queued()).toBe(2));
		const failedOnce = await hookRow(hookId);
		expect(failedOnce).toMatchObject({ failures: 1, lastError: 'The receiver answered 500.' });
		const alarmAt = await runInDurableObject(outbox, (_, state) => state.storage.getAlarm());
		expect(alarmAt).toBeGreaterThan(Date.now() + RETRY_BASE_MS - 2000);

		await runDurableObjectAlarm(outbox);
		expect((await hookRow(hookId))?.failures).toBe(2);
		await runDurableObjectAlarm(outbox);
		const deliveries = await receiver().deliveries(inbox.id);
		expect(deliveries.map((d) => [eventOf(d).message.body, d.status])).toEqual([
			['first', 500],
			['first', 500],
			['first', 200],
			['second', 200]
		]);
		// Every try of an event carries its one id, so a receiver can drop a repeat.
		expect(new Set(deliveries.slice(0, 3).map((d) => d.headers['parley-event-id'])).size).toBe(1);
		expect(await hookRow(hookId)).toMatchObject({ failures: 0, disabledAt: null });
		expect(await outbox.queued()).toBe(0);
		socket.close();
	});

	it('waits 10 s after the first failure, doubling to at most 30 minutes', () => {
		expect(retryDelay(1)).toBe(10_000);
		expect(retryDelay(2)).toBe(20_000);
		expect(retryDelay(5)).toBe(160_000);
		expect(retryDelay(MAX_FAILURES)).toBe(30 * 60_000);
		const total = Array.from({ length: MAX_FAILURES - 1 }, (_, i) => retryDelay(i + 1)).reduce(
			(a, b) => a + b
		);
		// What "repeated failure" means to an admin: over an hour of trying before it is turned off.
		expect(total).toBeGreaterThan(60 * 60_000);
	});

	it('counts a redirect as a failure and does not follow it', async () => {
		const { member, roomId, inbox, hookId } = await roomWithWebhook();
		await receiver().answerNext(inbox.id, {
			status: 302,
			count: 1,
			location: 'http://169.254.169.254/latest/meta-data'
		});
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'hello');
		await vi.waitFor(async () => expect((await hookRow(hookId))?.failures).toBe(1), {
			timeout: 5000,
			interval: 50
		});
		expect((await hookRow(hookId))?.lastError).toBe(
			'The receiver answered 302 (redirects are not followed).'
		);
		expect(await receiver().deliveries(inbox.id)).toHaveLength(1);
		socket.close();
	});

	it('gives up on a receiver that does not answer in time, and waits a full retry from then', async () => {
		const { member, roomId, inbox, hookId, outbox } = await roomWithWebhook();
		await receiver().answerNext(inbox.id, {
			status: 200,
			count: 2,
			delayMs: DELIVERY_TIMEOUT_MS + 1500
		});
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'slow');
		const failed = await vi.waitFor(
			async () => {
				const row = await hookRow(hookId);
				expect(row?.failures).toBe(1);
				return Date.now();
			},
			{ timeout: DELIVERY_TIMEOUT_MS + 5000, interval: 100 }
		);
		expect((await hookRow(hookId))?.lastError).toBe(
			`The receiver did not answer within ${DELIVERY_TIMEOUT_MS / 1000} seconds.`
		);
		const alarmAt = await runInDurableObject(outbox, (_, state) => state.storage.getAlarm());
		expect(alarmAt).toBeGreaterThan(failed + RETRY_BASE_MS - 1000);
		expect(await receiver().deliveries(inbox.id)).toHaveLength(1);
		socket.close();
	}, 20_000);

	it(`turns the webhook off after ${MAX_FAILURES} failures in a row and tells the owner and admins, not members`, async () => {
		const { owner, member, roomId, bot, inbox, hookId, outbox } = await roomWithWebhook();
		const admin = await seedPerson('ada');
		await grantMembership(db(), roomId, admin.id);
		await setRole(roomId, admin, 'admin');
		await receiver().answerNext(inbox.id, { status: 500, count: MAX_FAILURES });
		const ownerHub = await connectHub(owner);
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'doomed');
		await vi.waitFor(async () => expect((await hookRow(hookId))?.failures).toBe(1), {
			timeout: 5000,
			interval: 50
		});
		for (let i = 2; i <= MAX_FAILURES; i++) await runDurableObjectAlarm(outbox);

		const row = await hookRow(hookId);
		expect(row?.disabledAt).not.toBeNull();
		expect(row?.failures).toBe(MAX_FAILURES);
		expect(await outbox.queued()).toBe(0);
		expect(await receiver().deliveries(inbox.id)).toHaveLength(MAX_FAILURES);

		for (const who of [owner, admin]) {
			const { items } = await listInbox(db(), who.id);
			expect(items[0]).toMatchObject({
				kind: 'webhook_disabled',
				summary: `The outgoing webhook of ${bot.displayName} in Test room was turned off after failing`,
				preview: 'The receiver answered 500.',
				url: `/rooms/${roomId}/details?tab=bots`,
				unread: true
			});
		}
		expect((await listInbox(db(), member.id)).items).toEqual([]);
		// The owner's open tab hears the count at once.
		await ownerHub.next('inbox', (f) => f.unread === 1, 3000);

		// Turned off, the room sends it nothing more.
		await send(socket, 'b', 'after');
		await new Promise((resolve) => setTimeout(resolve, 600));
		expect(await receiver().deliveries(inbox.id)).toHaveLength(MAX_FAILURES);

		// Saving it again turns it back on with a clean count; the next message goes.
		const again = await saveOutgoingWebhook(
			db(),
			rt(),
			actor(owner),
			roomId,
			bot.id,
			{ url: inbox.url, events: 'messages' },
			{ production: false }
		);
		expect(again).toEqual({ ok: true, secret: null });
		expect(await hookRow(hookId)).toMatchObject({ failures: 0, disabledAt: null, lastError: null });
		await send(socket, 'c', 'back on');
		await vi.waitFor(
			async () => {
				const last = (await receiver().deliveries(inbox.id)).at(-1)!;
				expect([eventOf(last).message.body, last.status]).toEqual(['back on', 200]);
			},
			{ timeout: 5000, interval: 50 }
		);
		socket.close();
		ownerHub.close();
	}, 15_000);

	it('turns off at once a webhook whose address may not be reached from here', async () => {
		const { member, roomId, inbox, hookId, outbox } = await roomWithWebhook();
		// As a deployment would see the loopback address saved in development.
		await runInDurableObject(outbox, (instance: WebhookOutbox) => {
			instance.deliveryEnv = { ...devEnv, APP_ENV: 'production' };
		});
		const socket = await connect(roomId, member, 0);
		await send(socket, 'a', 'inside');
		await vi.waitFor(async () => expect((await hookRow(hookId))?.disabledAt).not.toBeNull(), {
			timeout: 5000,
			interval: 50
		});
		expect((await hookRow(hookId))?.lastError).toBe(
			'The URL must be on the internet, not a local address.'
		);
		expect(await receiver().deliveries(inbox.id)).toEqual([]);
		socket.close();
	});

	it(`keeps at most ${MAX_QUEUED_EVENTS} events waiting, dropping the oldest`, async () => {
		const { hookId, outbox } = await roomWithWebhook();
		await runInDurableObject(outbox, async (instance: WebhookOutbox, state) => {
			// No delivery meanwhile: this is about the queue alone.
			await state.storage.setAlarm(Date.now() + 60 * 60_000);
			const events = Array.from({ length: MAX_QUEUED_EVENTS + 20 }, (_, i) => ({
				id: `e${i}`,
				body: `{"n":${i}}`
			}));
			await instance.enqueue(hookId, events.slice(0, 300));
			await instance.enqueue(hookId, events.slice(300));
			// A retried flush hands the same events again: they are not queued twice.
			await instance.enqueue(hookId, events.slice(-5));
			const ids = state.storage.sql
				.exec<{ id: string }>('SELECT id FROM events ORDER BY n')
				.toArray()
				.map((r) => r.id);
			expect(ids).toHaveLength(MAX_QUEUED_EVENTS);
			expect(ids[0]).toBe('e20');
			expect(ids.at(-1)).toBe(`e${MAX_QUEUED_EVENTS + 19}`);
		});
	});
});
