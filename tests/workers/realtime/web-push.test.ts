// Web Push from the realtime worker to the tests' push service (tests/support/push-service.ts),
// which checks the VAPID signature and decrypts each message as a browser's push service would.
import { describe, expect, inject, it, vi } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import type { HubRoomFrame } from '$shared/protocol/hub';
import type { InferOutput } from 'valibot';
import { roomNotification, type NotificationPayload } from '$shared/notify';
import { pushSubscriptions, users } from '$shared/db/schema';
import {
	MAX_PUSH_TRIES,
	pushToUser,
	retryDelay,
	type PushEnv
} from '../../../workers/realtime/src/web-push';
import { PUSH_BURST_MS } from '../../../workers/realtime/src/push-bursts';
import type { UserHub } from '../../../workers/realtime/src/user-hub';
import { db, type Person } from '../../helpers';
import { connectHub, hubStub, seedPerson } from '../../support/people';
import { PushServiceClient, type PushDevice } from '../../support/push-client';

const service = () => new PushServiceClient(inject('pushServicePort'));

/** The worker as `npm run dev` runs it: a loopback push service is reached over plain http. */
const devEnv: PushEnv = { ...env, APP_ENV: 'development' };

let counter = 0;

/** A device of the person, subscribed at the push service and stored as the API would. */
async function subscribeDevice(person: Person): Promise<PushDevice> {
	const device = await service().subscribe();
	await db()
		.insert(pushSubscriptions)
		.values({
			id: `sub${++counter}${device.id.slice(0, 8)}`,
			userId: person.id,
			endpoint: device.endpoint,
			p256dh: device.keys.p256dh,
			auth: device.keys.auth,
			createdAt: Date.now()
		});
	return device;
}

const subscriptionOf = async (device: PushDevice) =>
	(
		await db()
			.select()
			.from(pushSubscriptions)
			.where(eq(pushSubscriptions.endpoint, device.endpoint))
	)[0];

function frame(roomId: string, preview: string, alert = true): InferOutput<typeof HubRoomFrame> {
	return {
		type: 'room',
		roomId,
		reason: 'direct',
		seq: ++counter,
		at: Date.now(),
		senderName: 'Ann',
		preview,
		roomName: '',
		count: 1,
		alert
	};
}

const payload = (preview = 'hello there'): NotificationPayload =>
	roomNotification(frame('room-a', preview));

describe('pushToUser', () => {
	it('sends each device one message that decrypts to exactly the payload, and marks it used', async () => {
		const bob = await seedPerson('bob');
		const phone = await subscribeDevice(bob);
		const laptop = await subscribeDevice(bob);
		const sent = payload();

		const outcome = await pushToUser(devEnv, bob.id, sent);
		expect(outcome).toEqual({ quiet: false, results: ['sent', 'sent'] });
		for (const device of [phone, laptop]) {
			const delivered = await service().delivered(device.id);
			expect(delivered.map((d) => JSON.parse(d))).toEqual([sent]);
			expect((await subscriptionOf(device))?.lastUsedAt).toEqual(expect.any(Number));
		}
		const [record] = await service().records(phone.id);
		expect(record?.ttl).toBeGreaterThan(0);
	});

	it('removes a subscription the push service answers 404 or 410 for', async () => {
		const bob = await seedPerson('bob');
		const gone = await subscribeDevice(bob);
		const expired = await subscribeDevice(bob);
		const kept = await subscribeDevice(bob);
		await service().failNext(gone.id, { status: 404, count: 1 });
		await service().failNext(expired.id, { status: 410, count: 1 });

		const outcome = await pushToUser(devEnv, bob.id, payload());
		expect(outcome.results.toSorted()).toEqual(['removed', 'removed', 'sent']);
		expect(await subscriptionOf(gone)).toBeUndefined();
		expect(await subscriptionOf(expired)).toBeUndefined();
		expect(await subscriptionOf(kept)).toBeDefined();
		expect(await service().records(gone.id)).toHaveLength(1);
	});

	it('retries a 429 after its Retry-After, and a 5xx, until it is accepted', async () => {
		const bob = await seedPerson('bob');
		const limited = await subscribeDevice(bob);
		const flaky = await subscribeDevice(bob);
		await service().failNext(limited.id, { status: 429, count: 1, retryAfter: 1 });
		await service().failNext(flaky.id, { status: 503, count: 2 });

		const started = Date.now();
		const outcome = await pushToUser(devEnv, bob.id, payload());
		expect(outcome.results).toEqual(['sent', 'sent']);
		const tries = await service().records(limited.id);
		expect(tries.map((r) => r.status)).toEqual([429, 201]);
		// Retry-After said a second.
		expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(900);
		expect((await service().records(flaky.id)).map((r) => r.status)).toEqual([503, 503, 201]);
		expect(Date.now() - started).toBeLessThan(10_000);
	});

	it(`gives up after ${MAX_PUSH_TRIES} tries, and at once on another refusal, keeping the subscription`, async () => {
		const bob = await seedPerson('bob');
		const down = await subscribeDevice(bob);
		const refused = await subscribeDevice(bob);
		await service().failNext(down.id, { status: 500, count: 10 });
		await service().failNext(refused.id, { status: 403, count: 10 });

		const outcome = await pushToUser(devEnv, bob.id, payload());
		expect(outcome.results).toEqual(['failed', 'failed']);
		expect(await service().records(down.id)).toHaveLength(MAX_PUSH_TRIES);
		expect(await service().records(refused.id)).toHaveLength(1);
		expect((await subscriptionOf(down))?.lastUsedAt).toBeNull();
		expect(await subscriptionOf(refused)).toBeDefined();
	});

	it('sends nothing during do not disturb, paused or on schedule', async () => {
		const bob = await seedPerson('bob');
		const phone = await subscribeDevice(bob);
		await db()
			.update(users)
			.set({ dndUntil: Date.now() + 60_000 })
			.where(eq(users.id, bob.id));
		expect(await pushToUser(devEnv, bob.id, payload())).toEqual({ quiet: true, results: [] });

		// 22:00 to 07:00 in UTC, asked at 23:30 UTC.
		await db()
			.update(users)
			.set({ dndUntil: null, dndStart: 22 * 60, dndEnd: 7 * 60, timeZone: 'UTC' })
			.where(eq(users.id, bob.id));
		const lateEvening = Date.UTC(2026, 0, 5, 23, 30);
		expect(await pushToUser(devEnv, bob.id, payload(), lateEvening)).toEqual({
			quiet: true,
			results: []
		});
		expect(await service().records(phone.id)).toEqual([]);
		// At noon the schedule is off.
		const noon = Date.UTC(2026, 0, 5, 12, 0);
		expect((await pushToUser(devEnv, bob.id, payload(), noon)).results).toEqual(['sent']);
	});

	it('a message signed with another VAPID key is refused by the push service, and not retried', async () => {
		const bob = await seedPerson('bob');
		const phone = await subscribeDevice(bob);
		const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
			'sign'
		])) as CryptoKeyPair;
		const point = new Uint8Array(
			(await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer
		);
		const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
		const stranger: PushEnv = {
			...devEnv,
			VAPID_PUBLIC_KEY: Buffer.from(point).toString('base64url'),
			VAPID_PRIVATE_KEY: jwk.d!
		};
		expect((await pushToUser(stranger, bob.id, payload())).results).toEqual(['failed']);
		expect(await service().records(phone.id)).toEqual([]);
		expect((await pushToUser(devEnv, bob.id, payload())).results).toEqual(['sent']);
	});

	it('the Retry-After wait is capped, and backs off without one', () => {
		expect(retryDelay(1, '2')).toBe(2000);
		expect(retryDelay(1, '3600')).toBe(5000);
		expect(retryDelay(1, null)).toBe(500);
		expect(retryDelay(2, null)).toBe(1000);
		expect(retryDelay(1, new Date(Date.now() + 1500).toUTCString())).toBeLessThanOrEqual(1500);
	});
});

/** Points the person's hub at the push service over loopback, as in development. */
async function hubSendsLocally(person: Person): Promise<void> {
	await runInDurableObject(hubStub(person.id), (hub: UserHub) => {
		hub.pushEnv = devEnv;
	});
}

describe('UserHub: pushes for a person with no tab open', () => {
	it(
		'coalesces five alerts of one room in a burst into at most two pushes whose counts add to 5',
		async () => {
			const bob = await seedPerson('bob');
			const phone = await subscribeDevice(bob);
			await hubSendsLocally(bob);
			const hub = hubStub(bob.id);
			for (const word of ['one', 'two', 'three', 'four', 'five']) {
				await hub.notify(bob.id, frame('room-burst', word));
			}
			await vi.waitFor(
				async () => {
					const pushed = (await service().delivered(phone.id)).map(
						(d) => JSON.parse(d) as NotificationPayload
					);
					expect(pushed.reduce((sum, p) => sum + p.count, 0)).toBe(5);
					expect(pushed.length).toBeLessThanOrEqual(2);
					expect(pushed.at(-1)?.body).toBe('five');
					expect(new Set(pushed.map((p) => p.tag))).toEqual(new Set(['room:room-burst']));
				},
				{ timeout: PUSH_BURST_MS + 3000, interval: 200 }
			);
			// The first went out at once; the rest waited for the window's end.
			const [first, last] = await service().records(phone.id);
			expect(JSON.parse(first!.payload!)).toMatchObject({ body: 'one', count: 1 });
			expect(last!.at - first!.at).toBeGreaterThanOrEqual(PUSH_BURST_MS - 500);

			// After the burst, the next alert is pushed at once.
			await hub.notify(bob.id, frame('room-burst', 'six'));
			await vi.waitFor(async () => expect(await service().delivered(phone.id)).toHaveLength(3), {
				timeout: 2000
			});
		},
		PUSH_BURST_MS * 3
	);

	it('pushes nothing while a tab is open, for alert: false, or for other events', async () => {
		const bob = await seedPerson('bob');
		const phone = await subscribeDevice(bob);
		await hubSendsLocally(bob);
		const hub = hubStub(bob.id);
		await hub.notify(bob.id, frame('room-quiet', 'muted room', false));
		await hub.notify(bob.id, { type: 'requests', incoming: 1 });
		const tab = await connectHub(bob);
		await hub.notify(bob.id, frame('room-seen', 'on screen'));
		await tab.next('room', (f) => f.preview === 'on screen');
		await new Promise((r) => setTimeout(r, 500));
		expect(await service().records(phone.id)).toEqual([]);
		tab.close();
	});

	it('touches no storage for a person with no tab', async () => {
		const bob = await seedPerson('bob');
		await subscribeDevice(bob);
		await hubSendsLocally(bob);
		await hubStub(bob.id).notify(bob.id, frame('room-c', 'hi'));
		await runInDurableObject(hubStub(bob.id), (_hub: UserHub, state) => {
			const tables = state.storage.sql
				.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
				.toArray()
				.map((t) => t.name);
			expect(tables.filter((t) => t === 'meta' || t === 'contacts')).toEqual([]);
		});
	});
});
