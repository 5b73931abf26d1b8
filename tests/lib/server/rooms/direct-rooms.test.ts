import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { blockUser } from '$lib/server/people/blocks';
import { memberships, rooms, users } from '$shared/db/schema';
import { directKeyOf, findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { listConversations } from '$lib/server/rooms/rooms';
import { connect, db } from '../../../helpers';
import { befriend, rt, seedPerson } from '../../../support/people';

async function directRoomsOf(a: string, b: string) {
	return db()
		.select()
		.from(rooms)
		.where(eq(rooms.directKey, directKeyOf(a, b)));
}

describe('direct messages', () => {
	it('two friends get exactly one room, whoever opens it and however often', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);

		const first = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		const again = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		const fromBob = await findOrCreateDirectRoom(db(), bob.id, alice.id);

		expect(first).toMatchObject({ ok: true, created: true });
		expect(again).toMatchObject({ ok: true, created: false });
		if (!first.ok || !again.ok || !fromBob.ok) throw new Error('expected rooms');
		expect(again.roomId).toBe(first.roomId);
		expect(fromBob.roomId).toBe(first.roomId);
		const members = await db()
			.select({ userId: memberships.userId })
			.from(memberships)
			.where(eq(memberships.roomId, first.roomId));
		expect(members.map((m) => m.userId).sort()).toEqual([alice.id, bob.id].sort());
	});

	it('stays one room when both people press "Message" at the same moment, many times', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);

		const results = await Promise.all(
			Array.from({ length: 12 }, (_, i) =>
				i % 2 === 0
					? findOrCreateDirectRoom(db(), alice.id, bob.id)
					: findOrCreateDirectRoom(db(), bob.id, alice.id)
			)
		);

		const roomIds = new Set(results.map((r) => (r.ok ? r.roomId : r.code)));
		expect(roomIds.size).toBe(1);
		expect(results.filter((r) => r.ok && r.created)).toHaveLength(1);
		const stored = await directRoomsOf(alice.id, bob.id);
		expect(stored).toHaveLength(1);
		expect(stored[0]!.memberCount).toBe(2);
		const members = await db()
			.select()
			.from(memberships)
			.where(eq(memberships.roomId, stored[0]!.id));
		expect(members).toHaveLength(2);
	});

	it('needs friendship unless the recipient takes messages from everyone', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');

		expect(await findOrCreateDirectRoom(db(), alice.id, bob.id)).toMatchObject({
			ok: false,
			status: 403,
			code: 'dm_not_allowed'
		});
		expect(await directRoomsOf(alice.id, bob.id)).toHaveLength(0);

		await db().update(users).set({ dmPolicy: 'everyone' }).where(eq(users.id, bob.id));
		expect(await findOrCreateDirectRoom(db(), alice.id, bob.id)).toMatchObject({ ok: true });
		// Bob's setting lets Alice write to him; Alice's own setting still protects her.
		await db().update(users).set({ dmPolicy: 'friends' }).where(eq(users.id, bob.id));
		expect(await findOrCreateDirectRoom(db(), bob.id, alice.id)).toMatchObject({ ok: true });
	});

	it('refuses a conversation with yourself', async () => {
		const alice = await seedPerson('alice');
		expect(await findOrCreateDirectRoom(db(), alice.id, alice.id)).toMatchObject({
			ok: false,
			status: 400,
			code: 'self'
		});
	});

	it('a block shuts the conversation for both at once: sockets closed, no new room, gone from the sidebar', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const opened = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!opened.ok) throw new Error('expected a room');
		const aliceSocket = await connect(opened.roomId, alice, 0);
		const bobSocket = await connect(opened.roomId, bob, 0);

		await blockUser(db(), rt(), alice.id, bob.id);

		await bobSocket.until(() => bobSocket.closed);
		await aliceSocket.until(() => aliceSocket.closed);
		expect(bobSocket.closed?.code).toBe(4003);
		expect(await findOrCreateDirectRoom(db(), bob.id, alice.id)).toMatchObject({
			ok: false,
			code: 'blocked'
		});
		expect(await findOrCreateDirectRoom(db(), alice.id, bob.id)).toMatchObject({
			ok: false,
			code: 'blocked'
		});
		expect((await listConversations(db(), bob.id)).map((c) => c.id)).not.toContain(opened.roomId);
		expect((await listConversations(db(), alice.id)).map((c) => c.id)).not.toContain(opened.roomId);
	});

	it('the sidebar names a direct room after the other person', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const opened = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!opened.ok) throw new Error('expected a room');
		const [row] = await listConversations(db(), alice.id);
		expect(row).toMatchObject({
			id: opened.roomId,
			kind: 'direct',
			name: 'Bob',
			peer: { id: bob.id, displayName: 'Bob' }
		});
	});
});
