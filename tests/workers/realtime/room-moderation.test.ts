// Slow mode, time-outs and an admin's removal of a message, as the room object enforces them:
// on every send, whatever path it comes by, without ever letting a held message be overtaken.
import { describe, expect, it } from 'vitest';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { ErrorCode } from '$shared/protocol';
import { auditLog, messages } from '$shared/db/schema';
import { readHistory } from '$lib/server/rooms/history';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import { connect, db, roomStub, seedRoom, seedUser, type TestSocket } from '../../helpers';

async function sent(socket: TestSocket, clientId: string, body: string) {
	socket.send({ type: 'send', clientId, body });
	return socket.next('ack', (f) => f.clientId === clientId);
}

/** Moves the room's clock for slow mode: its last message from `userId` happened `ms` earlier. */
async function age(roomId: string, userId: string, ms: number) {
	await runInDurableObject(roomStub(roomId), (_: ChatRoom, state) => {
		state.storage.sql.exec(
			'UPDATE messages SET created_at = created_at - ? WHERE sender_id = ?',
			ms,
			userId
		);
	});
}

describe('slow mode', () => {
	it('holds a member’s second message until the interval has passed, and keeps their order', async () => {
		const owner = await seedUser('olga');
		const mo = await seedUser('mo');
		const roomId = await seedRoom(owner, mo);
		await roomStub(roomId).moderate({ slowModeSeconds: 30 });
		const socket = await connect(roomId, mo, 0);

		expect((await sent(socket, 'a', 'first')).seq).toBe(1);
		// A very fast sender: three more at once. The first is held for slow mode, and the two
		// behind it are held too (never sent before it), however the room's other limits stand.
		socket.send({ type: 'send', clientId: 'b', body: 'second' });
		socket.send({ type: 'send', clientId: 'c', body: 'third' });
		socket.send({ type: 'send', clientId: 'd', body: 'fourth' });
		const held = await socket.next('error', (f) => f.clientId === 'b');
		expect(held).toMatchObject({ code: ErrorCode.SlowMode });
		expect(held.retryAfterMs).toBeGreaterThan(25_000);
		expect(held.retryAfterMs).toBeLessThanOrEqual(30_000);
		// Those behind it wait for it (as behind any held send), as long as it waits.
		const behind = await socket.next('error', (f) => f.clientId === 'd');
		expect(behind.code).toBe(ErrorCode.RateLimited);
		expect(behind.retryAfterMs).toBeGreaterThan(25_000);

		// Out of turn, a later one is still refused while the held one has not gone.
		socket.clear();
		socket.send({ type: 'send', clientId: 'c', body: 'third' });
		expect((await socket.next('error', (f) => f.clientId === 'c')).code).toBe(
			ErrorCode.RateLimited
		);

		await age(roomId, mo.id, 30_000);
		expect((await sent(socket, 'b', 'second')).seq).toBe(2);
		// Slow again at once: one message per interval.
		socket.clear();
		socket.send({ type: 'send', clientId: 'c', body: 'third' });
		expect((await socket.next('error', (f) => f.clientId === 'c')).code).toBe(ErrorCode.SlowMode);
		socket.close();
	});

	it('does not slow the owner and admins, and stops when turned off', async () => {
		const owner = await seedUser('olga');
		const mo = await seedUser('mo');
		const roomId = await seedRoom(owner, mo);
		await roomStub(roomId).moderate({ slowModeSeconds: 60 });
		const admin = await connect(roomId, owner, 0, { role: 'owner' });
		for (const id of ['a', 'b', 'c']) await sent(admin, id, `owner ${id}`);

		const socket = await connect(roomId, mo, 0);
		await sent(socket, 'm1', 'one');
		await roomStub(roomId).moderate({ slowModeSeconds: 0 });
		expect((await sent(socket, 'm2', 'two')).seq).toBe(5);
		admin.close();
		socket.close();
	});

	it('applies to a send through the API and survives the object being evicted', async () => {
		const owner = await seedUser('olga');
		const mo = await seedUser('mo');
		const roomId = await seedRoom(owner, mo);
		await roomStub(roomId).moderate({ slowModeSeconds: 10 });
		const who = { userId: mo.id, name: mo.name, username: mo.username, role: 'member' as const };
		const first = await roomStub(roomId).change(roomId, who, {
			type: 'send',
			clientId: 'api-1',
			body: 'hello'
		});
		expect(first.ok).toBe(true);
		await evictDurableObject(roomStub(roomId));
		const second = await roomStub(roomId).change(roomId, who, {
			type: 'send',
			clientId: 'api-2',
			body: 'again'
		});
		expect(second).toMatchObject({ ok: false, code: ErrorCode.SlowMode });
		// A resend of the one it took is still answered, not held.
		const again = await roomStub(roomId).change(roomId, who, {
			type: 'send',
			clientId: 'api-1',
			body: 'hello'
		});
		expect(again).toMatchObject({ ok: true, duplicate: true });
	});
});

describe('time-outs', () => {
	it('holds every send of a timed-out member until the time-out ends, and no longer', async () => {
		const owner = await seedUser('olga');
		const mo = await seedUser('mo');
		const roomId = await seedRoom(owner, mo);
		const socket = await connect(roomId, mo, 0);
		await sent(socket, 'a', 'before');

		const until = Date.now() + 60 * 60_000;
		await roomStub(roomId).moderate({ timeOut: { userId: mo.id, until } });
		socket.send({ type: 'send', clientId: 'b', body: 'during' });
		const held = await socket.next('error', (f) => f.clientId === 'b');
		expect(held.code).toBe(ErrorCode.TimedOut);
		expect(held.retryAfterMs).toBeGreaterThan(59 * 60_000);

		// Reading, reacting and their own edits are not sending: still allowed.
		socket.send({ type: 'react', seq: 1, emoji: '👍', on: true });
		await socket.next('update');

		await roomStub(roomId).moderate({ timeOut: { userId: mo.id, until: null } });
		expect((await sent(socket, 'b', 'during')).seq).toBe(2);
		socket.close();
	});

	it('does not hold anyone else', async () => {
		const owner = await seedUser('olga');
		const mo = await seedUser('mo');
		const cy = await seedUser('cy');
		const roomId = await seedRoom(owner, mo, cy);
		await roomStub(roomId).moderate({ timeOut: { userId: mo.id, until: Date.now() + 60_000 } });
		const socket = await connect(roomId, cy, 0);
		expect((await sent(socket, 'a', 'free')).seq).toBe(1);
		socket.close();
	});
});

describe('an admin’s removal of a message', () => {
	it('says "removed by an admin" live and in history, and is audited once', async () => {
		const owner = await seedUser('olga');
		const mo = await seedUser('mo');
		const roomId = await seedRoom(owner, mo);
		const author = await connect(roomId, mo, 0);
		const admin = await connect(roomId, owner, 0, { role: 'owner' });
		const { seq } = await sent(author, 'a', 'something awful');
		await sent(author, 'b', 'my own mistake');

		admin.send({ type: 'delete', seq });
		const removed = await author.next('update', (f) => f.message.seq === seq);
		expect(removed.message).toMatchObject({ body: '', removedByModerator: true });
		author.send({ type: 'delete', seq: 2 });
		const own = await author.next('update', (f) => f.message.seq === 2);
		expect(own.message.deletedAt).toBeDefined();
		expect(own.message.removedByModerator).toBeUndefined();

		await runDurableObjectAlarm(roomStub(roomId));
		// The flush may run again (a retry): the entry is still one.
		await runInDurableObject(roomStub(roomId), (_: ChatRoom, state) => {
			state.storage.sql.exec('UPDATE messages SET version = version + 1 WHERE seq = ?', seq);
		});
		await runDurableObjectAlarm(roomStub(roomId));
		const [row] = await db()
			.select()
			.from(messages)
			.where(and(eq(messages.roomId, roomId), eq(messages.seq, seq)));
		expect(row).toMatchObject({ body: '', deletedBy: owner.id });
		const history = await readHistory(db(), roomStub(roomId), roomId, {});
		expect(history.messages.find((m) => m.seq === seq)?.removedByModerator).toBe(true);
		expect(history.messages.find((m) => m.seq === 2)?.removedByModerator).toBeUndefined();

		const entries = await db().select().from(auditLog).where(eq(auditLog.roomId, roomId));
		expect(entries).toEqual([
			expect.objectContaining({
				actorId: owner.id,
				actorRole: 'room_admin',
				action: 'message.delete',
				targetKind: 'message',
				targetId: `${roomId}:${seq}`,
				details: JSON.stringify({ seq, senderId: mo.id })
			})
		]);
		author.close();
		admin.close();
	});
});
