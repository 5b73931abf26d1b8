import { describe, expect, it } from 'vitest';
import { evictDurableObject } from 'cloudflare:test';
import { ROOM_STATE_INTERVAL_MS, TYPING_TTL_MS, type PresenceEntry } from '$shared/protocol';
import { connect, roomStub, seedRoom, seedUser, sleep, type TestSocket } from '../../helpers';

/** The latest presence `observer` was told for a user, from its welcome and presence frames. */
function presenceOf(observer: TestSocket, userId: string): PresenceEntry | undefined {
	let entry: PresenceEntry | undefined;
	for (const frame of observer.frames) {
		const list =
			frame.type === 'welcome' ? frame.presence : frame.type === 'presence' ? frame.members : [];
		entry = list.find((m) => m.userId === userId) ?? entry;
	}
	return entry;
}

describe('presence', () => {
	it('sums up a burst of joins in one presence frame per second, not one frame per join', async () => {
		const alice = await seedUser('alice');
		const crowd = await Promise.all(Array.from({ length: 30 }, (_, i) => seedUser(`guest${i}`)));
		const room = await seedRoom(alice, ...crowd);
		const a = await connect(room, alice, 0);
		await sleep(ROOM_STATE_INTERVAL_MS + 100);
		a.clear();

		const sockets = await Promise.all(crowd.map((person) => connect(room, person)));
		await a.until(() => crowd.every((p) => presenceOf(a, p.id)?.state === 'online'), 4000);

		// 30 joins, and Alice heard about them in one or two summaries (a window may split them).
		const frames = a.of('presence');
		expect(frames.length).toBeLessThanOrEqual(2);
		expect(frames.flatMap((f) => f.members).length).toBe(30);
		// With the username that mentions them: the page that loaded before they came has none.
		expect(presenceOf(a, crowd[7]!.id)?.username).toBe(crowd[7]!.username);
		// Nobody else got more than that either: O(members) frames for the burst, not O(members²).
		for (const socket of sockets) expect(socket.of('presence').length).toBeLessThanOrEqual(2);
	}, 15_000);

	it('tells member lists who was added and who lost their place, in one summary', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const dan = await seedUser('dan');
		const room = await seedRoom(alice, bob, carol);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		await sleep(ROOM_STATE_INTERVAL_MS + 100);
		a.clear();

		// Dan is added while away; Bob (connected) and Carol (not) are removed.
		const stub = roomStub(room);
		await stub.memberAdded({ userId: dan.id, name: dan.name, username: dan.username });
		await stub.disconnectUser(bob.id);
		await stub.disconnectUser(carol.id);
		const frame = await a.next('members');
		expect(frame.joined).toEqual([{ userId: dan.id, name: dan.name, username: dan.username }]);
		expect([...frame.left].sort()).toEqual([bob.id, carol.id].sort());
		await b.until(() => b.closed);
		expect(b.of('members')).toEqual([]);

		// Re-added after leaving: the last word counts, and a quiet room says nothing more.
		await stub.disconnectUser(dan.id);
		await stub.memberAdded({ userId: dan.id, name: dan.name, username: dan.username });
		await sleep(ROOM_STATE_INTERVAL_MS + 200);
		const later = a.of('members').slice(1);
		expect(later).toHaveLength(1);
		expect(later[0]).toMatchObject({ joined: [{ userId: dan.id }], left: [] });
	}, 15_000);

	it('counts membership changes for welcomes, across eviction, so a tab can tell it missed one', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const dan = await seedUser('dan');
		const room = await seedRoom(alice, bob);
		const stub = roomStub(room);
		expect((await stub.revisions()).membersRev).toBe(0);
		const a = await connect(room, alice, 0);
		expect(a.of('welcome')[0]?.membersRev).toBe(0);

		await stub.memberAdded({ userId: dan.id, name: dan.name, username: dan.username });
		await stub.disconnectUser(bob.id);
		expect((await a.next('members')).rev).toBe(2);
		expect((await stub.revisions()).membersRev).toBe(2);

		// The count is kept in storage: a fresh object must not start again from 0.
		a.close();
		await evictDurableObject(stub);
		const again = await connect(room, alice, 0);
		expect(again.of('welcome')[0]?.membersRev).toBe(2);
	}, 15_000);

	it('sends at most one presence frame per second however often presence changes', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		await sleep(ROOM_STATE_INTERVAL_MS + 100);
		a.clear();

		// Bob's tab flips between hidden and visible ten times a second for 2.5 s.
		for (let i = 0; i < 25; i++) {
			b.send({ type: 'activity', away: i % 2 === 0 });
			await sleep(100);
		}
		await sleep(ROOM_STATE_INTERVAL_MS + 200);

		const times = a.frames.map((f, i) => (f.type === 'presence' ? a.times[i]! : null));
		const sent = times.filter((t): t is number => t !== null);
		expect(sent.length).toBeGreaterThanOrEqual(2);
		expect(sent.length).toBeLessThanOrEqual(4);
		for (let i = 1; i < sent.length; i++) {
			expect(sent[i]! - sent[i - 1]!).toBeGreaterThanOrEqual(ROOM_STATE_INTERVAL_MS - 50);
		}
		// The last word is right: the last flip left the tab hidden (i = 24 is even).
		expect(presenceOf(a, bob.id)?.state).toBe('away');
	}, 15_000);

	it('shows a member away only when all of their tabs are away, and offline with a last-seen time when all close', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const laptop = await connect(room, bob, 0);
		const phone = await connect(room, bob, 0);
		await a.until(() => presenceOf(a, bob.id)?.state === 'online');

		laptop.send({ type: 'activity', away: true });
		await sleep(ROOM_STATE_INTERVAL_MS + 200);
		expect(presenceOf(a, bob.id)?.state).toBe('online');

		phone.send({ type: 'activity', away: true });
		await a.until(() => presenceOf(a, bob.id)?.state === 'away', 3000);

		phone.send({ type: 'activity', away: false });
		await a.until(() => presenceOf(a, bob.id)?.state === 'online', 3000);

		const before = Date.now();
		laptop.close();
		phone.close();
		await a.until(() => presenceOf(a, bob.id)?.state === 'offline', 3000);
		expect(presenceOf(a, bob.id)?.lastSeenAt).toBeGreaterThanOrEqual(before - 5);

		// Someone arriving later sees Bob's last-seen time in their welcome.
		const carol = await seedUser('carol');
		const c = await connect(room, carol, 0);
		expect(presenceOf(c, bob.id)).toMatchObject({
			state: 'offline',
			lastSeenAt: expect.any(Number)
		});
		expect(presenceOf(c, alice.id)?.state).toBe('online');
	});
});

describe('typing', () => {
	it('tells the room who is typing, once, however many typing frames they send', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await seedRoom(alice, bob, carol);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const c = await connect(room, carol, 0);

		b.send({ type: 'typing' });
		b.send({ type: 'typing' });
		c.send({ type: 'typing' });
		b.send({ type: 'typing' });

		const frame = await a.latest('typing', (f) => f.users.length === 2);
		expect(frame.users.map((u) => u.name).sort()).toEqual(['Bob', 'Carol']);
		await sleep(ROOM_STATE_INTERVAL_MS + 200);
		expect(a.of('typing').length).toBeLessThanOrEqual(2);
	});

	it('clears the typing indicator when that person’s message arrives', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		b.send({ type: 'typing' });
		await a.next('typing', (f) => f.users.length === 1);

		b.send({ type: 'send', clientId: 'c1', body: 'Here it is' });

		await a.next('message');
		const cleared = await a.next('typing', (f) => f.users.length === 0);
		expect(cleared.users).toEqual([]);
	});

	it(`forgets that someone is typing ${TYPING_TTL_MS / 1000} s after their last typing frame`, async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		const start = Date.now();
		b.send({ type: 'typing' });
		await a.next('typing', (f) => f.users.length === 1);
		// Bob keeps typing for a while (a frame every 3 s at most), then stops.
		await sleep(2000);
		b.send({ type: 'typing' });
		const lastFrame = Date.now();

		await a.next('typing', (f) => f.users.length === 0, TYPING_TTL_MS + 3000);
		const gone = a.times[a.frames.findLastIndex((f) => f.type === 'typing')]!;
		expect(gone - lastFrame).toBeGreaterThanOrEqual(TYPING_TTL_MS - 100);
		expect(gone - lastFrame).toBeLessThan(TYPING_TTL_MS + ROOM_STATE_INTERVAL_MS + 500);
		expect(gone - start).toBeGreaterThan(TYPING_TTL_MS + 1500);
	}, 20_000);

	it('drops a person from the typing list when their last socket closes', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		b.send({ type: 'typing' });
		await a.next('typing', (f) => f.users.length === 1);

		b.close();

		await a.next('typing', (f) => f.users.length === 0);
	});
});
