import { describe, expect, it } from 'vitest';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import type { ReceiptEntry } from '$shared/protocol';
import { memberships } from '$shared/db/schema';
import { listConversations } from '$lib/server/rooms/rooms';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import { READ_WRITE_DELAY_MS } from '../../../workers/realtime/src/members';
import { connect, db, roomStub, seedRoom, seedUser, sleep, type TestSocket } from '../../helpers';

/** The latest receipt `observer` was told for a user, from its welcome and receipt frames. */
function receiptOf(observer: TestSocket, userId: string): ReceiptEntry | undefined {
	let entry: ReceiptEntry | undefined;
	for (const frame of observer.frames) {
		const list =
			frame.type === 'welcome' ? frame.receipts : frame.type === 'receipt' ? frame.receipts : [];
		entry = list.find((r) => r.userId === userId) ?? entry;
	}
	return entry;
}

async function lastReadSeq(roomId: string, userId: string) {
	const [row] = await db()
		.select({ seq: memberships.lastReadSeq })
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)));
	return row?.seq;
}

async function sendMany(socket: TestSocket, count: number) {
	for (let n = 1; n <= count; n++) socket.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
	await socket.until((f) => f.filter((x) => x.type === 'ack').length === count);
}

describe('read receipts and unread counts', () => {
	it('tells the sender how far each member has read, live', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await seedRoom(alice, bob, carol);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const c = await connect(room, carol, 0);
		await sendMany(a, 3);

		b.send({ type: 'read', seq: 2 });
		c.send({ type: 'read', seq: 3 });

		await a.until(
			() => receiptOf(a, bob.id)?.readSeq === 2 && receiptOf(a, carol.id)?.readSeq === 3
		);
		// Sending a message counts as having read up to it.
		expect(receiptOf(a, alice.id)?.readSeq).toBe(3);
		// A read position never moves back, and cannot run ahead of the room.
		b.send({ type: 'read', seq: 1 });
		b.send({ type: 'read', seq: 999 });
		await a.until(() => receiptOf(a, bob.id)?.readSeq === 3);
	});

	it('hides read positions from and of a member who turned read receipts off', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await seedRoom(alice, bob, carol);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const c = await connect(room, carol, 0, { readReceipts: false });
		await sendMany(a, 2);

		c.send({ type: 'read', seq: 2 });
		b.send({ type: 'read', seq: 2 });

		await a.until(() => receiptOf(a, bob.id)?.readSeq === 2);
		await c.until(() => receiptOf(c, bob.id));
		// Alice never learns how far Carol read; Carol never learns how far anyone read.
		expect(receiptOf(a, carol.id)?.readSeq ?? null).toBeNull();
		const seenByCarol = [
			...c.of('welcome')[0]!.receipts,
			...c.of('receipt').flatMap((f) => f.receipts)
		];
		expect(seenByCarol.length).toBeGreaterThan(0);
		expect(seenByCarol.every((r) => r.readSeq === null)).toBe(true);
		expect(c.of('welcome')[0]?.readReceipts).toBe(false);
		// Carol's own position still counts for her unread badge.
		await runDurableObjectAlarm(roomStub(room));
		expect(await lastReadSeq(room, carol.id)).toBe(2);
	});

	it('records what reached a member before they went offline, as delivered', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		await sendMany(a, 2);
		await b.until((f) => f.filter((x) => x.type === 'message').length === 2);

		b.close();

		await a.until(() => receiptOf(a, bob.id)?.deliveredSeq === 2);
		expect(receiptOf(a, bob.id)?.readSeq).toBe(0);
	});

	it('persists read positions to D1, where unread counts come from, and keeps them across restarts', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		await sendMany(a, 5);
		b.send({ type: 'read', seq: 3 });
		await a.until(() => receiptOf(a, bob.id)?.readSeq === 3);

		await runDurableObjectAlarm(roomStub(room));

		expect(await lastReadSeq(room, bob.id)).toBe(3);
		const [bobsView] = await listConversations(db(), bob.id);
		expect(bobsView?.unread).toBe(2);
		const [alicesView] = await listConversations(db(), alice.id);
		expect(alicesView?.unread).toBe(0);

		await evictDurableObject(roomStub(room), { webSockets: 'close' });
		const again = await connect(room, bob, 0);
		expect(again.of('welcome')[0]?.readSeq).toBe(3);
		expect(receiptOf(again, bob.id)?.readSeq).toBe(3);
	});

	it("stores a burst of reads in one statement: six friends reading alice's message write once", async () => {
		const alice = await seedUser('alice');
		const friends = await Promise.all(
			['bob', 'carol', 'dave', 'erin', 'frank', 'grace'].map((name) => seedUser(name))
		);
		const room = await seedRoom(alice, ...friends);
		const a = await connect(room, alice, 0);
		const sockets = await Promise.all(friends.map((friend) => connect(room, friend, 0)));
		await sendMany(a, 1);
		for (const socket of sockets) await socket.next('message');

		const writes: string[] = [];
		let restore = () => {};
		await runInDurableObject(roomStub(room), (_room: ChatRoom, state) => {
			const sql = state.storage.sql;
			const exec = sql.exec.bind(sql);
			sql.exec = ((query: string, ...bindings: unknown[]) => {
				if (/UPDATE members SET read_seq/.test(query)) writes.push(query);
				return exec(query, ...bindings);
			}) as typeof sql.exec;
			restore = () => {
				sql.exec = exec;
			};
		});
		try {
			for (const socket of sockets) socket.send({ type: 'read', seq: 1 });
			await a.until(() => friends.every((friend) => receiptOf(a, friend.id)?.readSeq === 1));
			await sleep(READ_WRITE_DELAY_MS + 200);
		} finally {
			await runInDurableObject(roomStub(room), () => restore());
		}
		// One when the reads arrive together, as here; never one each.
		expect(writes.length).toBeLessThan(friends.length);

		// Stored, not only in memory: a restart still knows where bob read up to.
		await evictDurableObject(roomStub(room), { webSockets: 'close' });
		const again = await connect(room, friends[0]!, 0);
		expect(again.of('welcome')[0]?.readSeq).toBe(1);
	});
});
