import { describe, expect, it } from 'vitest';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { memberships, messages, rooms } from '$shared/db/schema';
import { readHistory } from '$lib/server/rooms/history';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import { MessageStore } from '../../../workers/realtime/src/message-store';
import {
	connect,
	db,
	injectOutage,
	roomStub,
	seedRoom,
	seedUser,
	type Outage,
	type TestSocket
} from '../../helpers';

async function storedMessages(roomId: string) {
	return db()
		.select({ seq: messages.seq, body: messages.body, reactions: messages.reactions })
		.from(messages)
		.where(eq(messages.roomId, roomId))
		.orderBy(messages.seq);
}

async function alarmAt(roomId: string): Promise<number | null> {
	return runInDurableObject(roomStub(roomId), (_instance, state) => state.storage.getAlarm());
}

async function sendAll(socket: TestSocket, bodies: string[]) {
	for (const [i, body] of bodies.entries()) {
		socket.send({ type: 'send', clientId: `${body}-${i}`, body });
	}
	await socket.until((f) => f.filter((x) => x.type === 'ack').length >= bodies.length);
}

describe('the flush to D1', () => {
	it('keeps acknowledging through a D1 outage, retries with backoff, and copies everything exactly once when D1 returns', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const outage: Outage = { mode: 'down', attempts: 0 };
		await injectOutage(room, outage);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		await sendAll(a, ['one', 'two', 'three', 'four', 'five']);
		a.send({ type: 'edit', seq: 2, body: 'two (edited)' });
		b.send({ type: 'react', seq: 3, emoji: '👍', on: true });
		b.send({ type: 'read', seq: 4 });
		await a.until((f) => f.filter((x) => x.type === 'update').length === 2);

		// The flush fails, and the retry waits longer each time.
		expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
		const firstRetry = (await alarmAt(room))! - Date.now();
		expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
		const secondRetry = (await alarmAt(room))! - Date.now();
		expect(outage.attempts).toBe(2);
		expect(firstRetry).toBeGreaterThan(500);
		expect(secondRetry).toBeGreaterThan(firstRetry);
		expect(await storedMessages(room)).toEqual([]);

		// New messages during the outage do not pull the retry forward.
		const retryAt = await alarmAt(room);
		await sendAll(a, ['six']);
		expect(await alarmAt(room)).toBe(retryAt);

		// History is right while the flush lags: it comes from the room's unflushed tail.
		const lagging = await readHistory(db(), roomStub(room), room, {});
		expect(lagging.messages.map((m) => m.body)).toEqual([
			'one',
			'two (edited)',
			'three',
			'four',
			'five',
			'six'
		]);
		expect(lagging.messages[2]?.reactions).toEqual({ '👍': [bob.id] });

		outage.mode = 'up';
		await runDurableObjectAlarm(roomStub(room));

		const stored = await storedMessages(room);
		expect(stored.map((m) => [m.seq, m.body])).toEqual([
			[1, 'one'],
			[2, 'two (edited)'],
			[3, 'three'],
			[4, 'four'],
			[5, 'five'],
			[6, 'six']
		]);
		expect(JSON.parse(stored[2]!.reactions)).toEqual({ '👍': [bob.id] });
		const [membership] = await db()
			.select({ lastReadSeq: memberships.lastReadSeq })
			.from(memberships)
			.where(and(eq(memberships.roomId, room), eq(memberships.userId, bob.id)));
		expect(membership?.lastReadSeq).toBe(4);
		const [summary] = await db()
			.select({ seq: rooms.lastMessageSeq, preview: rooms.lastMessagePreview })
			.from(rooms)
			.where(eq(rooms.id, room));
		expect(summary).toEqual({ seq: 6, preview: 'six' });
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);
		expect(await alarmAt(room)).toBeNull();
	});

	it('does not duplicate anything when D1 committed a batch but the room never heard back', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const outage: Outage = { mode: 'lost-reply', attempts: 0 };
		await injectOutage(room, outage);
		const a = await connect(room, alice, 0);
		await sendAll(a, ['a', 'b', 'c']);

		await runDurableObjectAlarm(roomStub(room));
		// D1 has the rows, but the room still counts them as unflushed and will send them again.
		expect((await storedMessages(room)).length).toBe(3);
		expect((await roomStub(room).unflushed({ limit: 10 })).length).toBe(3);

		outage.mode = 'up';
		a.send({ type: 'edit', seq: 1, body: 'a (edited)' });
		await a.next('update');
		await runDurableObjectAlarm(roomStub(room));

		expect((await storedMessages(room)).map((m) => [m.seq, m.body])).toEqual([
			[1, 'a (edited)'],
			[2, 'b'],
			[3, 'c']
		]);
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);
	});

	it('loses nothing acknowledged when the object is evicted while D1 is down', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		await injectOutage(room, { mode: 'down', attempts: 0 });
		const a = await connect(room, alice, 0);
		await sendAll(a, ['before', 'the', 'restart']);
		await runDurableObjectAlarm(roomStub(room));
		expect(await storedMessages(room)).toEqual([]);

		// A deploy: the object restarts (with the real D1, which is back), sockets close.
		await evictDurableObject(roomStub(room), { webSockets: 'close' });
		await runDurableObjectAlarm(roomStub(room));

		expect((await storedMessages(room)).map((m) => m.body)).toEqual(['before', 'the', 'restart']);
	});

	it('drains a long backlog in batches, one after another, until D1 has it all', async () => {
		const people = await Promise.all(
			['ann', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus'].map(seedUser)
		);
		const room = await seedRoom(people[0]!, ...people.slice(1));
		await injectOutage(room, { mode: 'down', attempts: 0 });
		const sockets = await Promise.all(people.map((p) => connect(room, p, 0)));
		// 140 messages: more than one flush batch (100).
		await Promise.all(
			sockets.map((s, i) =>
				sendAll(
					s,
					Array.from({ length: 20 }, (_, n) => `${i}:${n}`)
				)
			)
		);
		await evictDurableObject(roomStub(room), { webSockets: 'close' });

		for (let round = 0; round < 5 && (await alarmAt(room)) !== null; round++) {
			await runDurableObjectAlarm(roomStub(room));
		}

		const stored = await storedMessages(room);
		expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 140 }, (_, i) => i + 1));
	});

	it('marks a whole flushed batch in one statement; a message edited meanwhile stays due', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		await sendAll(a, ['one', 'two', 'three']);
		a.close();

		await runInDurableObject(roomStub(room), (_instance: ChatRoom, state) => {
			const store = new MessageStore(state.storage.sql);
			const batch = store.toFlush(10);
			expect(batch.map((r) => r.seq)).toEqual([1, 2, 3]);
			// An edit lands while the batch is on its way to D1.
			store.update(2, { body: 'two, edited', editedAt: Date.now() });

			const sql = state.storage.sql;
			const exec = sql.exec.bind(sql);
			let statements = 0;
			sql.exec = ((query: string, ...bindings: unknown[]) => {
				statements++;
				return exec(query, ...bindings);
			}) as typeof sql.exec;
			store.markFlushed(batch);
			sql.exec = exec;
			expect(statements).toBe(1);
			// A retried mark of the same batch changes nothing.
			store.markFlushed(batch);

			expect(store.toFlush(10).map((r) => [r.seq, r.body])).toEqual([[2, 'two, edited']]);
			store.markFlushed(store.toFlush(10));
			expect(store.hasUnflushed()).toBe(false);
		});
	});
});

describe('the conversation row in D1 (issue 14)', () => {
	async function summary(roomId: string) {
		const [row] = await db()
			.select({ seq: rooms.lastMessageSeq, preview: rooms.lastMessagePreview })
			.from(rooms)
			.where(eq(rooms.id, roomId));
		return row;
	}

	/** An edit or deletion, acknowledged by its update, then the flush. */
	async function changeAndFlush(socket: TestSocket, roomId: string, frame: object) {
		socket.send(frame);
		await socket.next('update');
		await runDurableObjectAlarm(roomStub(roomId));
	}

	it('shows the newest message still there when the newest ones are deleted, one flush at a time', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		await sendAll(a, ['one', '**two**', 'three']);
		await runDurableObjectAlarm(roomStub(room));
		expect(await summary(room)).toEqual({ seq: 3, preview: 'three' });

		await changeAndFlush(a, room, { type: 'delete', seq: 3 });
		// The seq stays the room's newest (unread counts go by it); the preview is the newest left.
		expect(await summary(room)).toEqual({ seq: 3, preview: 'two' });

		// The row already shows an older message than the newest seq: deleting that one moves it on.
		await changeAndFlush(a, room, { type: 'delete', seq: 2 });
		expect(await summary(room)).toEqual({ seq: 3, preview: 'one' });

		await changeAndFlush(a, room, { type: 'edit', seq: 1, body: 'one (edited)' });
		expect(await summary(room)).toEqual({ seq: 3, preview: 'one (edited)' });

		await changeAndFlush(a, room, { type: 'delete', seq: 1 });
		expect(await summary(room)).toEqual({ seq: 3, preview: '' });
		a.close();
	});

	it('a message sent and its predecessor deleted in one batch: the row shows the new one', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		await sendAll(a, ['one', 'two']);
		await changeAndFlush(a, room, { type: 'delete', seq: 2 });
		expect(await summary(room)).toEqual({ seq: 2, preview: 'one' });
		await sendAll(a, ['three']);
		await changeAndFlush(a, room, { type: 'delete', seq: 1 });
		expect(await summary(room)).toEqual({ seq: 3, preview: 'three' });
		a.close();
	});
});
