import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { acceptFriendRequest, removeFriend, sendFriendRequest } from '$lib/server/people/friends';
import { blockUser } from '$lib/server/people/blocks';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { openRealtimeSocket } from '$lib/server/realtime/door';
import { memberships, rooms } from '$shared/db/schema';
import { and, eq } from 'drizzle-orm';
import { connect, db, replayUnreadSignals, roomStub, seedRoom } from '../../helpers';
import type { UserHub } from '../../../workers/realtime/src/user-hub';
import { befriend, connectHub, hubStub, rt, seedPerson, sessionFor } from '../../support/people';

/** The online flag rooms read before calling a member's hub. */
async function hubOnlineInD1(userId: string): Promise<number | undefined> {
	const row = await env.DB.prepare('SELECT hub_online AS online FROM users WHERE id = ?')
		.bind(userId)
		.first<{ online: number }>();
	return row?.online;
}

describe('UserHub: presence', () => {
	it("a friend's tab sees them come online, and go offline after the grace period", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const bobTab = await connectHub(bob);
		expect(bobTab.of('welcome')[0]?.presence).toEqual([{ userId: alice.id, online: false }]);

		const aliceTab = await connectHub(alice);
		await bobTab.next('presence', (f) => f.userId === alice.id && f.online);
		// Alice's own welcome already knows Bob is online.
		expect(aliceTab.of('welcome')[0]?.presence).toEqual([{ userId: bob.id, online: true }]);

		aliceTab.close();
		await new Promise((r) => setTimeout(r, 100));
		// A reload inside the grace period is not announced; the alarm after it is.
		expect(bobTab.of('presence').filter((f) => !f.online)).toHaveLength(0);
		await runDurableObjectAlarm(hubStub(alice.id));
		await bobTab.next('presence', (f) => f.userId === alice.id && !f.online);
		bobTab.close();
	});

	it('marks the user online in D1 from the first tab until the grace period after the last', async () => {
		const alice = await seedPerson('alice');
		const flag = () => hubOnlineInD1(alice.id);
		expect(await flag()).toBe(0);
		const first = await connectHub(alice);
		expect(await flag()).toBe(1);
		const second = await connectHub(alice);
		first.close();
		await runDurableObjectAlarm(hubStub(alice.id));
		// Another tab is still open: still online.
		expect(await flag()).toBe(1);
		second.close();
		await new Promise((r) => setTimeout(r, 100));
		await runDurableObjectAlarm(hubStub(alice.id));
		expect(await flag()).toBe(0);
	});

	it('a tab that opens while the hub tells D1 "offline" leaves the user online, and friends untold', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const bobTab = await connectHub(bob);
		const first = await connectHub(alice);
		first.close();
		await new Promise((r) => setTimeout(r, 100));

		// The grace alarm's "offline" write is held back in D1 until a new tab has come online, so
		// that it lands after the new tab's "online" write.
		let reached!: () => void;
		const atWrite = new Promise<void>((resolve) => (reached = resolve));
		let release!: () => void;
		const held = new Promise<void>((resolve) => (release = resolve));
		await runInDurableObject(hubStub(alice.id), (hub: UserHub) => {
			const real = hub.database;
			hub.database = new Proxy(real, {
				get(target, property) {
					if (property !== 'prepare') {
						const value: unknown = Reflect.get(target, property);
						return typeof value === 'function' ? value.bind(target) : value;
					}
					return (query: string) => {
						const statement = target.prepare(query);
						if (!query.includes('SET hub_online')) return statement;
						return {
							bind: (...values: unknown[]) => ({
								run: async () => {
									if (values[0] === 0) {
										reached();
										await held;
									}
									return statement.bind(...values).run();
								}
							})
						};
					};
				}
			});
		});
		const alarm = runDurableObjectAlarm(hubStub(alice.id));
		await atWrite;
		const second = await connectHub(alice);
		release();
		await alarm;

		expect(await hubOnlineInD1(alice.id)).toBe(1);
		expect(await hubStub(alice.id).isOnline()).toBe(true);
		expect(bobTab.of('presence').filter((f) => f.userId === alice.id && !f.online)).toEqual([]);
		second.close();
		bobTab.close();
	});

	it('presence is shared with friends only, from the moment of accepting until unfriending', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const bobTab = await connectHub(bob);
		const carolTab = await connectHub(carol);
		const aliceTab = await connectHub(alice);

		await sendFriendRequest(db(), rt(), alice.id, bob.id);
		await acceptFriendRequest(db(), rt(), bob.id, alice.id);
		await bobTab.next('presence', (f) => f.userId === alice.id && f.online);
		await aliceTab.next('presence', (f) => f.userId === bob.id && f.online);

		await removeFriend(db(), rt(), bob.id, alice.id);
		await bobTab.next('presence', (f) => f.userId === alice.id && !f.online);
		expect(carolTab.of('presence')).toHaveLength(0);
		for (const tab of [aliceTab, bobTab, carolTab]) tab.close();
	});

	it("a blocked user stops seeing the blocker's presence at once, and never learns it again", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const bobTab = await connectHub(bob);
		const aliceTab = await connectHub(alice);
		await bobTab.next('presence', (f) => f.userId === alice.id && f.online);

		await blockUser(db(), rt(), alice.id, bob.id);
		await bobTab.next('presence', (f) => f.userId === alice.id && !f.online);

		// Bob opens a new tab: his hub knows nothing of Alice.
		const bobSecondTab = await connectHub(bob);
		expect(bobSecondTab.of('welcome')[0]?.presence).toEqual([]);
		for (const tab of [aliceTab, bobTab, bobSecondTab]) tab.close();
	});

	it('the door opens /ws/me only with a valid session, to the signed-in user', async () => {
		const alice = await seedPerson('alice');
		const request = () =>
			new Request('https://parley.test/ws/me', { headers: { Upgrade: 'websocket' } });
		const deps = { db: db(), rooms: env.ROOMS, hubs: env.HUBS };
		expect((await openRealtimeSocket(request(), deps, undefined)).status).toBe(401);
		expect((await openRealtimeSocket(request(), deps, 'not-a-token')).status).toBe(401);
		const plain = new Request('https://parley.test/ws/me');
		expect((await openRealtimeSocket(plain, deps, await sessionFor(alice))).status).toBe(426);

		const response = await openRealtimeSocket(request(), deps, await sessionFor(alice));
		expect(response.status).toBe(101);
		const ws = response.webSocket!;
		const welcome = new Promise<string>((resolve) =>
			ws.addEventListener('message', (e) => resolve(e.data as string), { once: true })
		);
		ws.accept();
		expect(JSON.parse(await welcome)).toMatchObject({ type: 'welcome', userId: alice.id });
		ws.close();
	});
});

describe('UserHub: conversation signals', () => {
	it('a group member hears once when the room becomes unread, not for every message', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);

		for (const n of [1, 2, 3]) aliceRoom.send({ type: 'send', clientId: `m${n}`, body: `hi ${n}` });
		await aliceRoom.until((f) => f.filter((x) => x.type === 'ack').length === 3);
		// The signal waits out the window, and carries the newest message of it.
		const signal = await bobHub.next('room');
		expect(signal).toMatchObject({ roomId: room, reason: 'unread', seq: 3, preview: 'hi 3' });
		await new Promise((r) => setTimeout(r, 200));
		expect(bobHub.of('room')).toHaveLength(1);

		// Bob opens the room (he is up to date), closes it, and the next message is news again.
		const bobRoom = await connect(room, bob, 0);
		aliceRoom.send({ type: 'send', clientId: 'm4', body: 'while you look' });
		await bobRoom.next('message', (f) => f.message.seq === 4);
		bobRoom.close();
		await new Promise((r) => setTimeout(r, 100));
		aliceRoom.send({ type: 'send', clientId: 'm5', body: 'after you left' });
		await bobHub.next('room', (f) => f.seq === 5);
		expect(bobHub.of('room').map((f) => f.seq)).toEqual([3, 5]);
		// The sender's own hub hears nothing of her own messages.
		aliceRoom.close();
		bobHub.close();
	});

	it('a group member who opens the room within the window is never told it is unread', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);

		aliceRoom.send({ type: 'send', clientId: 'm1', body: 'hi' });
		await aliceRoom.next('ack');
		const bobRoom = await connect(room, bob, 0);
		await new Promise((r) => setTimeout(r, 1500));
		expect(bobHub.of('room')).toHaveLength(0);
		for (const s of [aliceRoom, bobRoom, bobHub]) s.close();
	});

	it('the hub of a member with no tab open is told of the room without writing anything', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const aliceRoom = await connect(room, alice, 0);

		aliceRoom.send({ type: 'send', clientId: 'm1', body: `hi @${bob.username}` });
		await aliceRoom.next('ack');
		await new Promise((r) => setTimeout(r, 300));
		const tables = await runInDurableObject(hubStub(bob.id), (_hub, state) =>
			state.storage.sql
				.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name IN ('meta', 'contacts')")
				.toArray()
		);
		expect(tables).toEqual([]);
		// A tab opened later still gets a welcome, and the next mention.
		const bobHub = await connectHub(bob);
		aliceRoom.send({ type: 'send', clientId: 'm2', body: `again @${bob.username}` });
		expect(await bobHub.next('room', (f) => f.seq === 2, 3000)).toMatchObject({
			reason: 'mention'
		});
		aliceRoom.close();
		bobHub.close();
	});

	it('mentions and direct messages are signalled every time', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const group = await seedRoom(alice, bob);
		const dm = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!dm.ok) throw new Error('expected a room');
		const bobHub = await connectHub(bob);
		const inGroup = await connect(group, alice, 0);
		const inDm = await connect(dm.roomId, alice, 0);

		inGroup.send({ type: 'send', clientId: 'g1', body: 'first' });
		await bobHub.next('room', (f) => f.roomId === group && f.reason === 'unread');
		inGroup.send({ type: 'send', clientId: 'g2', body: `look @${bob.username}!` });
		await bobHub.next('room', (f) => f.roomId === group && f.reason === 'mention');
		inDm.send({ type: 'send', clientId: 'd1', body: 'psst' });
		inDm.send({ type: 'send', clientId: 'd2', body: 'psst again' });
		await bobHub.next('room', (f) => f.roomId === dm.roomId && f.seq === 2);
		expect(
			bobHub
				.of('room')
				.filter((f) => f.reason === 'direct')
				.map((f) => f.preview)
		).toEqual(['psst', 'psst again']);
		for (const s of [inGroup, inDm, bobHub]) s.close();
	});

	it('a burst of direct messages reaches the hub as the first one at once and one summary after', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const dm = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!dm.ok) throw new Error('expected a room');
		const bobHub = await connectHub(bob);
		const inDm = await connect(dm.roomId, alice, 0);

		for (let n = 1; n <= 10; n++) inDm.send({ type: 'send', clientId: `d${n}`, body: `psst ${n}` });
		await inDm.until((f) => f.filter((x) => x.type === 'ack').length === 10);
		await bobHub.next('room', (f) => f.seq === 10, 3000);
		await new Promise((r) => setTimeout(r, 200));
		expect(bobHub.of('room').map((f) => [f.seq, f.preview])).toEqual([
			[1, 'psst 1'],
			[10, 'psst 10']
		]);
		inDm.close();
		bobHub.close();
	});

	it('the hub and the stored conversation list both get the message as plain text', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);

		aliceRoom.send({
			type: 'send',
			clientId: 'm1',
			body: '> *The Left Hand of Darkness*\n\n**next** [month](https://example.com) :sunny:'
		});
		await aliceRoom.next('ack');
		const plain = 'The Left Hand of Darkness next month ☀️';
		expect(await bobHub.next('room')).toMatchObject({ roomId: room, preview: plain });
		await runDurableObjectAlarm(roomStub(room));
		const [stored] = await db()
			.select({ preview: rooms.lastMessagePreview })
			.from(rooms)
			.where(eq(rooms.id, room));
		expect(stored?.preview).toBe(plain);
		aliceRoom.close();
		bobHub.close();
	});

	it('a mention in the middle of a burst still reaches the hub as a mention', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);

		aliceRoom.send({ type: 'send', clientId: 'm1', body: 'first' });
		aliceRoom.send({ type: 'send', clientId: 'm2', body: `look @${bob.username}!` });
		aliceRoom.send({ type: 'send', clientId: 'm3', body: 'third' });
		await aliceRoom.until((f) => f.filter((x) => x.type === 'ack').length === 3);
		const mention = await bobHub.next('room', (f) => f.reason === 'mention', 3000);
		expect(mention).toMatchObject({ roomId: room, seq: 2, preview: `look @${bob.username}!` });
		// The unread signal was still waiting for its window: the mention replaced it.
		await new Promise((r) => setTimeout(r, 1200));
		expect(bobHub.of('room').map((f) => f.reason)).toEqual(['mention']);
		aliceRoom.close();
		bobHub.close();
	});

	it("a large room's unread news calls only the hubs that have a tab open", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const offline = await Promise.all(['carol', 'dave', 'erin'].map((n) => seedPerson(n)));
		const room = await seedRoom(alice, bob, ...offline);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({ type: 'send', clientId: 'm1', body: 'news for everyone' });
		const { message } = await aliceRoom.next('message');

		// The room's own signals, replayed with a HUBS binding that records whom it calls.
		const calls = await replayUnreadSignals(room, message, (id) => id === alice.id);
		const called = calls.map((call) => call.userId);
		expect(called).toEqual([bob.id]);
		// Bob's tab got the real room's signal all the same.
		await bobHub.next('room', (f) => f.seq === message.seq);
		aliceRoom.close();
		bobHub.close();
	});

	it('a removed member hears nothing more from the room', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);

		await db()
			.delete(memberships)
			.where(and(eq(memberships.roomId, room), eq(memberships.userId, bob.id)));
		await roomStub(room).disconnectUser(bob.id);
		aliceRoom.send({ type: 'send', clientId: 'after', body: 'secret' });
		await aliceRoom.next('ack');
		await new Promise((r) => setTimeout(r, 300));
		expect(bobHub.of('room')).toHaveLength(0);
		aliceRoom.close();
		bobHub.close();
	});
});
