// Retention in the room object: messages past the room's retention (or the site's maximum) become
// content-free tombstones everywhere (the room's storage, D1, the inbox, search, R2), never one
// newer than that, and a client catching up across an expiry sees every seq, in order.
import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { files, messages, notifications } from '$shared/db/schema';
import { searchEverything } from '$lib/server/search';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import { RoomRetention, siteMaxSeconds } from '../../../workers/realtime/src/retention';
import { connect, db, roomStub, seedRoom, seedUser, type TestSocket } from '../../helpers';
import { FileClient, PNG } from '../../lib/server/files/support';

async function sent(socket: TestSocket, clientId: string, body: string) {
	socket.send({ type: 'send', clientId, body });
	return (await socket.next('ack', (f) => f.clientId === clientId)).seq;
}

/** Makes the room's messages up to `seq` older by `ms`, as if written that long before. */
async function age(roomId: string, upToSeq: number, ms: number) {
	await runInDurableObject(roomStub(roomId), (_: ChatRoom, state) => {
		state.storage.sql.exec(
			'UPDATE messages SET created_at = created_at - ? WHERE seq <= ?',
			ms,
			upToSeq
		);
	});
}

async function d1Rows(roomId: string) {
	return db().select().from(messages).where(eq(messages.roomId, roomId)).orderBy(messages.seq);
}

const HOUR = 3_600_000;

describe('retention in the room', () => {
	it('expires what is older than the retention everywhere, and nothing newer', async () => {
		const ana = await seedUser('ana');
		const bo = await seedUser('bo');
		const roomId = await seedRoom(ana, bo);
		const a = await connect(roomId, ana, 0);
		const old1 = await sent(a, 'o1', `@${bo.username} ancient findme words`);
		const old2 = await sent(a, 'o2', 'old findme words');
		await age(roomId, old2, 2 * HOUR);
		const fresh = await sent(a, 'f1', 'fresh findme words');
		await runDurableObjectAlarm(roomStub(roomId));
		expect((await d1Rows(roomId)).map((r) => r.body)).toContain(
			`@${bo.username} ancient findme words`
		);

		const b = await connect(roomId, bo, 0);
		await roomStub(roomId).setRetention(HOUR / 1000);
		await runDurableObjectAlarm(roomStub(roomId));

		// Live: the expired ones come as content-free updates, marked expired.
		const update = await b.next('update', (f) => f.message.seq === old1);
		expect(update.message).toMatchObject({ body: '', expired: true });
		expect(update.message.deletedAt).toBeDefined();
		expect(update.message.mentions).toBeUndefined();

		const rows = await d1Rows(roomId);
		expect(rows.map((r) => [r.seq, r.body, r.expired])).toEqual([
			[old1, '', true],
			[old2, '', true],
			[fresh, 'fresh findme words', false]
		]);
		// Bo's inbox item for the mention keeps no words either.
		const [item] = await db()
			.select()
			.from(notifications)
			.where(and(eq(notifications.roomId, roomId), eq(notifications.seq, old1)));
		expect(item?.preview ?? '').toBe('');
		// Search finds only what is left.
		const found = await searchEverything(db(), ana.id, { q: 'findme' });
		if (!found.ok) throw new Error(found.message);
		expect(found.messages.items.map((m) => m.seq)).toEqual([fresh]);

		// Catching up from before the expiry: every seq is there, in order, the old ones as
		// tombstones.
		const late = await connect(roomId, bo, 0);
		const backlog = late.frames.find((f) => f.type === 'backlog');
		expect(
			backlog && 'messages' in backlog ? backlog.messages.map((m) => [m.seq, m.body]) : null
		).toEqual([
			[old1, ''],
			[old2, ''],
			[fresh, 'fresh findme words']
		]);
		a.close();
		b.close();
		late.close();
	});

	it('deletes an expired message’s files from R2 and D1', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const a = await connect(roomId, ana, 0);
		const client = await FileClient.as(ana);
		const stored = await client.stored(roomId, PNG, 'picture.png');
		const fileId = stored.id;
		const [row] = await db().select().from(files).where(eq(files.id, fileId));
		expect(await env.FILES.head(row!.r2Key)).not.toBeNull();
		a.send({ type: 'send', clientId: 'p', body: 'a picture', attachments: [fileId] });
		const seq = (await a.next('ack')).seq;
		await runDurableObjectAlarm(roomStub(roomId));
		await age(roomId, seq, 2 * HOUR);
		await roomStub(roomId).setRetention(HOUR / 1000);
		await runDurableObjectAlarm(roomStub(roomId));
		await runDurableObjectAlarm(roomStub(roomId));
		expect(await env.FILES.head(row!.r2Key)).toBeNull();
		expect(await db().select().from(files).where(eq(files.id, fileId))).toEqual([]);
		a.close();
	});

	it('sets its next alarm for the oldest live message, and the site maximum caps any room', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const a = await connect(roomId, ana, 0);
		await sent(a, 'x', 'x');
		await roomStub(roomId).setRetention(7 * 24 * 3600);
		await runDurableObjectAlarm(roomStub(roomId));
		const alarm = await runInDurableObject(roomStub(roomId), (_: ChatRoom, state) =>
			state.storage.getAlarm()
		);
		expect(alarm).toBeGreaterThan(Date.now() + 7 * 24 * HOUR - 5000);
		expect(alarm).toBeLessThan(Date.now() + 7 * 24 * HOUR + 70_000);

		expect(siteMaxSeconds('')).toBeNull();
		expect(siteMaxSeconds(undefined)).toBeNull();
		expect(siteMaxSeconds('30')).toBe(30 * 86_400);
		expect(siteMaxSeconds('soon')).toBeNull();
		await runInDurableObject(roomStub(roomId), (_: ChatRoom, state) => {
			const capped = new RoomRetention(state.storage.sql, 86_400);
			expect(capped.seconds).toBe(86_400);
			capped.set(3600);
			expect(capped.seconds).toBe(3600);
			capped.set(null);
			expect(capped.seconds).toBe(86_400);
		});
		a.close();
	});
});
