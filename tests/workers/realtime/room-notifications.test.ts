// What a room tells about a message beyond "unread": the reason (mention, reply, direct), whether
// it may alert (the member's level for the room, and whom they blocked), how many messages a merged
// signal stands for, and the inbox items the flush writes in the same D1 batch as the messages.
import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { updateMemberSettings } from '$lib/server/rooms/settings';
import { memberships, notifications } from '$shared/db/schema';
import { connect, db, replayUnreadSignals, roomStub, seedRoom, sleep } from '../../helpers';
import { befriend, block, connectHub, rt, seedPerson } from '../../support/people';

type Person = Awaited<ReturnType<typeof seedPerson>>;

async function setLevel(roomId: string, person: Person, notify: 'all' | 'mentions' | 'mute') {
	await db()
		.update(memberships)
		.set({ notify })
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, person.id)));
}

async function inboxOf(person: Person) {
	return db()
		.select({
			kind: notifications.kind,
			key: notifications.key,
			seq: notifications.seq,
			actorId: notifications.actorId,
			preview: notifications.preview,
			count: notifications.count,
			read: notifications.readAt
		})
		.from(notifications)
		.where(eq(notifications.userId, person.id))
		.orderBy(notifications.key);
}

async function directRoom(a: Person, b: Person): Promise<string> {
	await befriend(a, b);
	const dm = await findOrCreateDirectRoom(db(), a.id, b.id);
	if (!dm.ok) throw new Error('expected a room');
	return dm.roomId;
}

async function addPushDevice(person: Person) {
	await env.DB.prepare(
		`INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at)
		 VALUES (?, ?, ?, 'k', 'a', ?)`
	)
		.bind(`sub-${person.id}`, person.id, `https://push.example/${person.id}`, Date.now())
		.run();
}

describe('room signals: reasons, alerts and counts', () => {
	it('a reply to my message reaches my hub as a reply that alerts, with the room named', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobRoom = await connect(room, bob, 0);
		bobRoom.send({ type: 'send', clientId: 'b1', body: 'lunch?' });
		await bobRoom.next('ack');
		bobRoom.close();
		await sleep(100);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({ type: 'send', clientId: 'a1', body: 'yes!', replyTo: 1 });
		const signal = await bobHub.next('room', (f) => f.seq === 2, 3000);
		expect(signal).toMatchObject({
			reason: 'reply',
			alert: true,
			count: 1,
			roomName: 'Test room',
			preview: 'yes!'
		});
		aliceRoom.close();
		bobHub.close();
	});

	it('a muted room still tells the hub it is unread, but never alerts; "mentions" alerts only for a mention', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		await setLevel(room, bob, 'mute');
		await setLevel(room, carol, 'mentions');
		const bobHub = await connectHub(bob);
		const carolHub = await connectHub(carol);
		const aliceRoom = await connect(room, alice, 0);

		aliceRoom.send({ type: 'send', clientId: 'a1', body: 'plain news' });
		expect(await bobHub.next('room', (f) => f.seq === 1, 3000)).toMatchObject({
			reason: 'unread',
			alert: false
		});
		expect(await carolHub.next('room', (f) => f.seq === 1, 3000)).toMatchObject({
			reason: 'unread',
			alert: false
		});
		aliceRoom.send({
			type: 'send',
			clientId: 'a2',
			body: `@${bob.username} @${carol.username} look`
		});
		expect(await bobHub.next('room', (f) => f.seq === 2, 3000)).toMatchObject({
			reason: 'mention',
			alert: false
		});
		expect(await carolHub.next('room', (f) => f.seq === 2, 3000)).toMatchObject({
			reason: 'mention',
			alert: true
		});
		for (const s of [aliceRoom, bobHub, carolHub]) s.close();
	});

	it('muting a room from its settings takes effect on the very next message', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({ type: 'send', clientId: 'a1', body: `@${bob.username} one` });
		expect(await bobHub.next('room', (f) => f.seq === 1, 3000)).toMatchObject({ alert: true });
		const done = await updateMemberSettings(db(), rt(), bob, room, {
			notify: 'mute',
			pinned: false,
			archived: false
		});
		expect(done.ok).toBe(true);
		aliceRoom.send({ type: 'send', clientId: 'a2', body: `@${bob.username} two` });
		expect(await bobHub.next('room', (f) => f.seq === 2, 3000)).toMatchObject({ alert: false });
		aliceRoom.close();
		bobHub.close();
	});

	it('a member with the room open but hidden hears its news, and again after looking and leaving', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const bobRoom = await connect(room, bob, 0);
		const aliceRoom = await connect(room, alice, 0);

		// Looking at the room: nothing for the hub.
		aliceRoom.send({ type: 'send', clientId: 'a1', body: 'while you look' });
		await bobRoom.next('message', (f) => f.message.seq === 1);
		await sleep(1200);
		expect(bobHub.of('room')).toEqual([]);

		bobRoom.send({ type: 'activity', away: true });
		await sleep(50);
		aliceRoom.send({ type: 'send', clientId: 'a2', body: 'while you are away' });
		expect(await bobHub.next('room', (f) => f.seq === 2, 3000)).toMatchObject({
			reason: 'unread',
			alert: true
		});
		bobRoom.send({ type: 'activity', away: false });
		await sleep(50);
		bobRoom.send({ type: 'activity', away: true });
		await sleep(50);
		aliceRoom.send({ type: 'send', clientId: 'a3', body: 'away again' });
		expect(await bobHub.next('room', (f) => f.seq === 3, 3000)).toMatchObject({ alert: true });
		for (const s of [aliceRoom, bobRoom, bobHub]) s.close();
	});

	it('a mention from someone I blocked does not alert me, in a room we share', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		await block(bob, alice);
		const bobHub = await connectHub(bob);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({ type: 'send', clientId: 'a1', body: `hey @${bob.username}` });
		expect(await bobHub.next('room', (f) => f.seq === 1, 3000)).toMatchObject({
			reason: 'mention',
			alert: false
		});
		aliceRoom.close();
		bobHub.close();
	});

	it('a burst of direct messages: the first alone, then one signal counting the rest', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const dm = await directRoom(alice, bob);
		const bobHub = await connectHub(bob);
		const inDm = await connect(dm, alice, 0);
		for (let n = 1; n <= 5; n++) inDm.send({ type: 'send', clientId: `d${n}`, body: `psst ${n}` });
		await bobHub.next('room', (f) => f.seq === 5, 3000);
		const signals = bobHub.of('room').map((f) => [f.seq, f.count, f.roomName, f.alert]);
		expect(signals).toEqual([
			[1, 1, '', true],
			[5, 4, '', true]
		]);
		inDm.close();
		bobHub.close();
	});

	it('a member with no tab but a device to push to is called when the news may alert them, not when muted', async () => {
		const alice = await seedPerson('alice');
		const pushed = await seedPerson('bob');
		const muted = await seedPerson('carol');
		const nobody = await seedPerson('dave');
		const room = await seedRoom(alice, pushed, muted, nobody);
		await addPushDevice(pushed);
		await addPushDevice(muted);
		await setLevel(room, muted, 'mute');
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({ type: 'send', clientId: 'm1', body: 'news for everyone' });
		const { message } = await aliceRoom.next('message');

		const calls = await replayUnreadSignals(room, message, (id) => id === alice.id);
		expect(calls).toEqual([{ userId: pushed.id, reason: 'unread', alert: true }]);
		aliceRoom.close();
	});
});

describe('inbox items written by the flush', () => {
	it('a mention and a reply each make one item; the sender and system messages make none', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		const bobRoom = await connect(room, bob, 0);
		bobRoom.send({ type: 'send', clientId: 'b1', body: 'my idea' });
		await bobRoom.next('ack');
		bobRoom.close();
		await sleep(50);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({
			type: 'send',
			clientId: 'a1',
			body: `@${carol.username} @${alice.username} see this`
		});
		// A reply that also mentions bob: one item for bob, as a mention.
		aliceRoom.send({ type: 'send', clientId: 'a2', body: 'good idea', replyTo: 1 });
		aliceRoom.send({ type: 'send', clientId: 'a3', body: `@${bob.username} agreed`, replyTo: 1 });
		await aliceRoom.until((f) => f.filter((x) => x.type === 'ack').length === 3);
		await roomStub(room).postSystemMessage(room, 'evt1', 'Alice renamed the room', {
			userId: alice.id,
			name: 'alice',
			username: alice.username
		});
		await runDurableObjectAlarm(roomStub(room));

		expect(await inboxOf(carol)).toEqual([
			{
				kind: 'mention',
				key: `mention:${room}:2`,
				seq: 2,
				actorId: alice.id,
				preview: `@${carol.username} @${alice.username} see this`,
				count: 1,
				read: null
			}
		]);
		expect((await inboxOf(bob)).map((i) => [i.kind, i.seq])).toEqual([
			['mention', 4],
			['reply', 3]
		]);
		expect(await inboxOf(alice)).toEqual([]);
		aliceRoom.close();
	});

	it('a direct conversation keeps one item: its count grows while unread and starts again once read', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const dm = await directRoom(alice, bob);
		const inDm = await connect(dm, alice, 0);
		for (let n = 1; n <= 3; n++) inDm.send({ type: 'send', clientId: `d${n}`, body: `psst ${n}` });
		await inDm.until((f) => f.filter((x) => x.type === 'ack').length === 3);
		await runDurableObjectAlarm(roomStub(dm));
		expect(await inboxOf(bob)).toEqual([
			{
				kind: 'direct',
				key: `direct:${dm}`,
				seq: 3,
				actorId: alice.id,
				preview: 'psst 3',
				count: 3,
				read: null
			}
		]);
		// Flushing again (a retried flush) counts nothing twice.
		await runDurableObjectAlarm(roomStub(dm));
		expect((await inboxOf(bob))[0]?.count).toBe(3);

		await db().update(notifications).set({ readAt: Date.now() });
		inDm.send({ type: 'send', clientId: 'd4', body: 'one more' });
		await inDm.next('ack');
		await runDurableObjectAlarm(roomStub(dm));
		expect(await inboxOf(bob)).toMatchObject([
			{ seq: 4, count: 1, preview: 'one more', read: null }
		]);
		inDm.close();
	});

	it('someone with the room open gets the item already read; an open hub tab learns the unread count', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		const bobRoom = await connect(room, bob, 0);
		const carolHub = await connectHub(carol);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({
			type: 'send',
			clientId: 'a1',
			body: `@${bob.username} @${carol.username} hi`
		});
		await aliceRoom.next('ack');
		await runDurableObjectAlarm(roomStub(room));
		expect((await inboxOf(bob))[0]?.read).toEqual(expect.any(Number));
		expect((await inboxOf(carol))[0]?.read).toBeNull();
		expect(await carolHub.next('inbox', () => true, 3000)).toEqual({ type: 'inbox', unread: 1 });
		for (const s of [aliceRoom, bobRoom, carolHub]) s.close();
	});

	it('nothing reaches my inbox from someone I blocked, nor about a message deleted before the flush', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		await block(bob, alice);
		const aliceRoom = await connect(room, alice, 0);
		aliceRoom.send({ type: 'send', clientId: 'a1', body: `@${bob.username} hi` });
		aliceRoom.send({ type: 'send', clientId: 'a2', body: `@${carol.username} oops` });
		await aliceRoom.until((f) => f.filter((x) => x.type === 'ack').length === 2);
		aliceRoom.send({ type: 'delete', seq: 2 });
		await aliceRoom.next('update');
		await runDurableObjectAlarm(roomStub(room));
		expect(await inboxOf(bob)).toEqual([]);
		expect(await inboxOf(carol)).toEqual([]);
		aliceRoom.close();
	});
});
