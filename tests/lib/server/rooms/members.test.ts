import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { rooms } from '$shared/db/schema';
import { requireRoom } from '$lib/server/rooms/authz';
import { readHistory } from '$lib/server/rooms/history';
import { openRoomSocket } from '$lib/server/realtime/door';
import { deleteRoom, updateRoomDetails } from '$lib/server/rooms/admin';
import {
	addMember,
	banMember,
	joinPublicRoom,
	leaveRoom,
	listMembers,
	removeMember,
	setMemberRole,
	transferOwnership,
	unbanMember
} from '$lib/server/rooms/members';
import { createRoom, listConversations } from '$lib/server/rooms/rooms';
import { connect, db, roomStub, seedRoom } from '../../../helpers';
import {
	befriend,
	block,
	connectHub,
	roleOf,
	rt,
	seedPerson,
	sessionFor,
	setRole
} from '../../../support/people';

async function timeline(roomId: string) {
	const page = await readHistory(db(), roomStub(roomId), roomId, {});
	return page.messages.filter((m) => m.kind === 'system').map((m) => m.body);
}

async function memberCount(roomId: string) {
	const [room] = await db().select().from(rooms).where(eq(rooms.id, roomId));
	return room?.memberCount;
}

describe('the last-owner rule', () => {
	it('the owner cannot be demoted, removed, banned, or leave while they are the only owner', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		await setRole(room, bob, 'admin');

		for (const attempt of [
			setMemberRole(db(), rt(), bob, room, alice.id, 'member'),
			setMemberRole(db(), rt(), alice, room, alice.id, 'member'),
			removeMember(db(), rt(), bob, room, alice.id),
			banMember(db(), rt(), bob, room, alice.id),
			leaveRoom(db(), rt(), alice, room)
		]) {
			expect(await attempt).toMatchObject({ ok: false, status: 409, code: 'last_owner' });
		}
		expect(await roleOf(room, alice)).toBe('owner');
		expect(await memberCount(room)).toBe(2);
	});

	it('after transferring ownership the old owner is an admin and may leave', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);

		expect(await transferOwnership(db(), rt(), alice, room, bob.id)).toEqual({ ok: true });
		expect(await roleOf(room, bob)).toBe('owner');
		expect(await roleOf(room, alice)).toBe('admin');
		expect(await leaveRoom(db(), rt(), alice, room)).toEqual({ ok: true });
		expect(await roleOf(room, alice)).toBeNull();
		expect(await timeline(room)).toEqual(['Alice made Bob the owner', 'Alice left']);
	});

	it('only the owner transfers ownership or deletes the room, and not to themselves', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		await setRole(room, bob, 'admin');

		expect(await transferOwnership(db(), rt(), bob, room, carol.id)).toMatchObject({
			status: 403
		});
		expect(await transferOwnership(db(), rt(), alice, room, alice.id)).toMatchObject({
			code: 'self'
		});
		expect(await deleteRoom(db(), rt(), bob, room)).toMatchObject({ status: 403 });
		expect(await roleOf(room, alice)).toBe('owner');
	});
});

describe('membership changes', () => {
	it('admins add friends, promote and demote, and each change shows in the timeline', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice);
		await befriend(alice, bob);
		const watcher = await connect(room, alice, 0);

		expect(await addMember(db(), rt(), alice, room, bob.username)).toEqual({ ok: true });
		expect(await setMemberRole(db(), rt(), alice, room, bob.id, 'admin')).toEqual({ ok: true });
		expect(await setMemberRole(db(), rt(), alice, room, bob.id, 'admin')).toMatchObject({
			status: 409
		});
		expect(await setMemberRole(db(), rt(), alice, room, bob.id, 'member')).toEqual({ ok: true });

		await watcher.until((f) => f.filter((x) => x.type === 'message').length === 3);
		expect(watcher.of('message').map((f) => f.message.body)).toEqual([
			'Alice added Bob',
			'Alice made Bob an admin',
			'Alice made Bob a member'
		]);
		expect(await memberCount(room)).toBe(2);
	});

	it("a promotion reaches the member's open socket at once: they may delete others' messages", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		const carolSocket = await connect(room, carol, 0);
		const bobSocket = await connect(room, bob, 0);
		carolSocket.send({ type: 'send', clientId: 'c1', body: 'spam' });
		const { seq } = await carolSocket.next('ack');

		bobSocket.send({ type: 'delete', seq });
		await bobSocket.next('error', (f) => f.code === 'forbidden');

		expect(await setMemberRole(db(), rt(), alice, room, bob.id, 'admin')).toEqual({ ok: true });
		bobSocket.send({ type: 'delete', seq });
		await carolSocket.next(
			'update',
			(f) => f.message.seq === seq && f.message.deletedAt !== undefined
		);
	});

	it('adding someone who is not a friend, is blocked, is banned or is already in is refused', async () => {
		const alice = await seedPerson('alice');
		const [bob, carol, dave] = await Promise.all(['bob', 'carol', 'dave'].map(seedPerson));
		const room = await seedRoom(alice, bob!);
		await befriend(alice, carol!);
		await block(carol!, alice);

		expect(await addMember(db(), rt(), alice, room, dave!.id)).toMatchObject({
			code: 'not_friends'
		});
		expect(await addMember(db(), rt(), alice, room, carol!.id)).toMatchObject({ status: 404 });
		expect(await addMember(db(), rt(), alice, room, bob!.id)).toMatchObject({ status: 409 });
		expect(await addMember(db(), rt(), alice, room, 'no_such_person')).toMatchObject({
			status: 404
		});
		expect((await listMembers(db(), room)).map((m) => m.id).sort()).toEqual(
			[alice.id, bob!.id].sort()
		);
	});

	it('members cannot manage others; a member acting on a room they are not in gets 404', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		const outsider = await seedPerson('dave');

		expect(await removeMember(db(), rt(), bob, room, carol.id)).toMatchObject({ status: 403 });
		expect(await removeMember(db(), rt(), outsider, room, carol.id)).toMatchObject({
			status: 404
		});
		expect(
			await updateRoomDetails(db(), rt(), bob, room, { name: 'x', description: '' })
		).toMatchObject({
			status: 403
		});
		expect(await memberCount(room)).toBe(3);
	});

	it('removing someone closes their open socket at once; they cannot reconnect, page history or rejoin', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobSocket = await connect(room, bob, 0);

		expect(await removeMember(db(), rt(), alice, room, bob.id)).toEqual({ ok: true });

		await bobSocket.until(() => bobSocket.closed);
		expect(bobSocket.closed?.code).toBe(4003);
		expect(bobSocket.of('message')).toHaveLength(0);
		expect(await timeline(room)).toEqual(['Alice removed Bob']);
		expect(await memberCount(room)).toBe(1);
		const door = await openRoomSocket(
			new Request(`https://parley.test/ws/room/${room}`, { headers: { Upgrade: 'websocket' } }),
			{ db: db(), rooms: env.ROOMS },
			await sessionFor(bob)
		);
		expect(door.status).toBe(404);
		await expect(requireRoom(db(), bob.id, room, 'read')).rejects.toMatchObject({ status: 404 });
		// A group is invite-only: joining without a link is refused.
		expect(await joinPublicRoom(db(), bob, room)).toMatchObject({ status: 403 });
	});

	it('a banned member is removed and cannot rejoin a public room until unbanned', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await createRoom(db(), { kind: 'public', name: 'Lobby', createdBy: alice.id });
		expect(await joinPublicRoom(db(), bob, room.id)).toEqual({ ok: true });
		const bobSocket = await connect(room.id, bob, 0);

		expect(await banMember(db(), rt(), alice, room.id, bob.id)).toEqual({ ok: true });
		await bobSocket.until(() => bobSocket.closed);
		expect(await joinPublicRoom(db(), bob, room.id)).toMatchObject({
			status: 403,
			code: 'banned'
		});
		expect(await unbanMember(db(), alice, room.id, bob.id)).toEqual({ ok: true });
		expect(await unbanMember(db(), alice, room.id, bob.id)).toMatchObject({ status: 404 });
		expect(await joinPublicRoom(db(), bob, room.id)).toEqual({ ok: true });
		expect(await timeline(room.id)).toEqual(['Alice banned Bob']);
	});

	it('public rooms are joined and left freely, and the member count follows', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await createRoom(db(), { kind: 'public', name: 'Open', createdBy: alice.id });
		await joinPublicRoom(db(), bob, room.id);
		await joinPublicRoom(db(), bob, room.id);
		expect(await memberCount(room.id)).toBe(2);
		expect(await leaveRoom(db(), rt(), bob, room.id)).toEqual({ ok: true });
		expect(await memberCount(room.id)).toBe(1);
		expect(await leaveRoom(db(), rt(), bob, room.id)).toMatchObject({ status: 403 });
	});

	it('deleting a group closes every member socket and removes it', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobSocket = await connect(room, bob, 0);
		expect(await deleteRoom(db(), rt(), alice, room)).toEqual({ ok: true });
		await bobSocket.until(() => bobSocket.closed);
		expect(await db().select().from(rooms).where(eq(rooms.id, room))).toHaveLength(0);
	});
});

describe('what people did themselves', () => {
	/** The room's unread count for `person`, as the sidebar loads it from D1. */
	async function unreadFor(roomId: string, person: { id: string }) {
		await runDurableObjectAlarm(roomStub(roomId));
		const rows = await listConversations(db(), person.id);
		return rows.find((row) => row.id === roomId)?.unread;
	}

	it("is never unread for them, in any tab, while everyone else's count goes up", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		await befriend(alice, carol);
		const room = await seedRoom(alice, bob);
		// Alice is signed in elsewhere (her hub has a tab) but has never opened the room.
		const aliceTab = await connectHub(alice);
		const bobTab = await connectHub(bob);

		await updateRoomDetails(db(), rt(), alice, room, { name: 'Renamed', description: 'About' });
		await addMember(db(), rt(), alice, room, carol.username);
		await setMemberRole(db(), rt(), alice, room, bob.id, 'admin');

		expect(await timeline(room)).toEqual([
			'Alice renamed the room to “Renamed”',
			'Alice changed the description',
			'Alice added Carol',
			'Alice made Bob an admin'
		]);
		expect(await unreadFor(room, alice)).toBe(0);
		expect(await unreadFor(room, bob)).toBe(4);
		// Each line names who did it.
		const page = await readHistory(db(), roomStub(room), room, {});
		expect(page.messages.map((m) => m.senderId)).toEqual([alice.id, alice.id, alice.id, alice.id]);
		// Her other tabs hear nothing of it; Bob's hear the room became unread.
		await bobTab.next('room', (f) => f.roomId === room);
		expect(aliceTab.of('room').filter((f) => f.roomId === room)).toEqual([]);
		aliceTab.close();
		bobTab.close();
	});

	it('an action moves the actor past everything before it too, as sending a message does', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobSocket = await connect(room, bob, 0);
		bobSocket.send({ type: 'send', clientId: 'c1', body: 'hello' });
		await bobSocket.next('ack');
		expect(await unreadFor(room, alice)).toBe(1);

		await updateRoomDetails(db(), rt(), alice, room, { name: 'Renamed', description: '' });
		expect(await unreadFor(room, alice)).toBe(0);
		// Bob is told how far Alice has read, like any read position.
		await bobSocket.until(() =>
			bobSocket.frames.some(
				(f) =>
					f.type === 'receipt' && f.receipts.some((r) => r.userId === alice.id && r.readSeq === 2)
			)
		);
	});

	it('someone who leaves is not taken back into the room by their own "left" line', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobSocket = await connect(room, bob, 0);
		bobSocket.close();
		expect(await leaveRoom(db(), rt(), bob, room)).toEqual({ ok: true });
		expect(await timeline(room)).toEqual(['Bob left']);
		const aliceSocket = await connect(room, alice, 0);
		const welcome = aliceSocket.of('welcome')[0]!;
		expect(welcome.presence.map((p) => p.userId)).not.toContain(bob.id);
		expect(welcome.receipts.map((r) => r.userId)).not.toContain(bob.id);
		expect(await unreadFor(room, alice)).toBe(1);
	});
});
