import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { and, eq } from 'drizzle-orm';
import { messages } from '$shared/db/schema';
import { readHistory } from '$lib/server/rooms/history';
import { grantMembership } from '$lib/server/rooms/rooms';
import { connect, db, roomStub, seedRoom, seedUser, sleep, type TestSocket } from '../../helpers';

async function sendAndAck(socket: TestSocket, clientId: string, body: string, replyTo?: number) {
	socket.send({ type: 'send', clientId, body, replyTo });
	return (await socket.next('ack', (f) => f.clientId === clientId)).seq;
}

async function storedRow(roomId: string, seq: number) {
	const [row] = await db()
		.select()
		.from(messages)
		.where(and(eq(messages.roomId, roomId), eq(messages.seq, seq)));
	return row;
}

describe('message operations', () => {
	it('lets a sender edit their own message in place, shown to everyone as edited', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const first = await sendAndAck(a, 'c1', 'See you at 5');
		await sendAndAck(a, 'c2', 'Bring snacks');

		a.send({ type: 'edit', seq: first, body: 'See you at 6' });

		const update = await b.next('update');
		expect(update.message).toMatchObject({ seq: first, body: 'See you at 6', clientId: 'c1' });
		expect(update.message.editedAt).toEqual(expect.any(Number));
		// Still first in the timeline: an edit does not move a message.
		const page = await readHistory(db(), roomStub(room), room, {});
		expect(page.messages.map((m) => [m.seq, m.body])).toEqual([
			[1, 'See you at 6'],
			[2, 'Bring snacks']
		]);
	});

	it("refuses to edit someone else's message, or one that does not exist", async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const seq = await sendAndAck(a, 'c1', 'mine');

		b.send({ type: 'edit', seq, body: 'hijacked' });
		b.send({ type: 'edit', seq: 99, body: 'nothing there' });

		expect(await b.next('error', (f) => f.seq === seq)).toMatchObject({ code: 'forbidden' });
		expect(await b.next('error', (f) => f.seq === 99)).toMatchObject({ code: 'not_found' });
		expect(a.of('update')).toEqual([]);
		expect((await roomStub(room).unflushed({ limit: 5 }))[0]?.body).toBe('mine');
	});

	it('leaves a tombstone when a sender deletes their message, and its words are gone', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const seq = await sendAndAck(a, 'c1', 'oops, wrong room');
		await sendAndAck(a, 'c2', 'next');

		a.send({ type: 'delete', seq });

		const update = await b.next('update');
		expect(update.message).toMatchObject({ seq, body: '' });
		expect(update.message.deletedAt).toEqual(expect.any(Number));
		// A deleted message can be neither edited nor reacted to.
		a.send({ type: 'edit', seq, body: 'back again' });
		b.send({ type: 'react', seq, emoji: '👍', on: true });
		expect((await a.next('error', (f) => f.seq === seq)).code).toBe('not_found');
		expect((await b.next('error', (f) => f.seq === seq)).code).toBe('not_found');

		await runDurableObjectAlarm(roomStub(room));
		const row = await storedRow(room, seq);
		expect(row).toMatchObject({ body: '', deletedAt: expect.any(Number) });
	});

	it("lets admins and owners delete anyone's message, but not plain members", async () => {
		const owner = await seedUser('olga');
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const admin = await seedUser('ada');
		const room = await seedRoom(owner, alice, bob);
		await grantMembership(db(), room, admin.id, 'admin');
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const moderator = await connect(room, admin, 0, { role: 'admin' });
		const seq = await sendAndAck(a, 'c1', 'spam spam spam');

		b.send({ type: 'delete', seq });
		expect((await b.next('error', (f) => f.seq === seq)).code).toBe('forbidden');

		moderator.send({ type: 'delete', seq });
		expect((await a.next('update')).message).toMatchObject({ seq, body: '' });
	});

	it('quotes the message replied to, and marks the quote when that message is deleted', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const question = await sendAndAck(a, 'q', 'Pizza or sushi tonight?');

		const answer = await sendAndAck(b, 'r', 'Sushi!', question);

		const received = await a.next('message', (f) => f.message.seq === answer);
		expect(received.message.replyTo).toEqual({
			seq: question,
			senderName: 'Alice',
			snippet: 'Pizza or sushi tonight?',
			deleted: false
		});

		b.send({ type: 'send', clientId: 'r2', body: 'to nothing', replyTo: 42 });
		expect(await b.next('error', (f) => f.clientId === 'r2')).toMatchObject({ code: 'not_found' });

		a.send({ type: 'delete', seq: question });
		await a.next('update');
		await runDurableObjectAlarm(roomStub(room));
		const page = await readHistory(db(), roomStub(room), room, {});
		expect(page.messages.find((m) => m.seq === answer)?.replyTo).toMatchObject({
			seq: question,
			snippet: '',
			deleted: true
		});
		expect((await storedRow(room, answer))?.replyToSeq).toBe(question);
	});

	it('toggles emoji reactions and keeps who reacted with what', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await seedRoom(alice, bob, carol);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const c = await connect(room, carol, 0);
		const seq = await sendAndAck(a, 'c1', 'We won!');

		b.send({ type: 'react', seq, emoji: '🎉', on: true });
		c.send({ type: 'react', seq, emoji: '🎉', on: true });
		c.send({ type: 'react', seq, emoji: '👍🏽', on: true });
		// Said twice: still one reaction from Bob.
		b.send({ type: 'react', seq, emoji: '🎉', on: true });
		await a.until((f) => f.filter((x) => x.type === 'update').length === 3);
		expect(a.of('update').at(-1)!.message.reactions).toEqual({
			'🎉': [bob.id, carol.id],
			'👍🏽': [carol.id]
		});

		c.send({ type: 'react', seq, emoji: '🎉', on: false });
		c.send({ type: 'react', seq, emoji: '👍🏽', on: false });
		await a.until((f) => f.filter((x) => x.type === 'update').length === 5);
		expect(a.of('update').at(-1)!.message.reactions).toEqual({ '🎉': [bob.id] });

		await runDurableObjectAlarm(roomStub(room));
		expect(JSON.parse((await storedRow(room, seq))!.reactions)).toEqual({ '🎉': [bob.id] });
	});

	it('stores whom a message mentions, including members who never opened the room', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await seedRoom(alice, bob, carol);
		const a = await connect(room, alice, 0);
		await connect(room, bob, 0);
		// Carol has not connected: the room learns her username from D1's member list.
		await sleep(300);

		const seq = await sendAndAck(
			a,
			'c1',
			`@${bob.username} and @${carol.username.toUpperCase()}, meet @nobody_here.`
		);

		const message = await a.next('message', (f) => f.message.seq === seq);
		expect(message.message.mentions?.sort()).toEqual([bob.id, carol.id].sort());
		await runDurableObjectAlarm(roomStub(room));
		expect(JSON.parse((await storedRow(room, seq))!.mentions).sort()).toEqual(
			[bob.id, carol.id].sort()
		);

		a.send({ type: 'edit', seq, body: `Only @${carol.username} now` });
		expect((await a.next('update')).message.mentions).toEqual([carol.id]);
	});

	it('resolves a mention of someone added while the room was open, before they ever connect', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		// The room has read its member list already, and will not read it again for a while.
		await sleep(300);
		const dave = await seedUser('dave');
		await grantMembership(db(), room, dave.id);
		await roomStub(room).memberAdded({ userId: dave.id, name: dave.name, username: dave.username });

		const seq = await sendAndAck(a, 'c1', `welcome @${dave.username}`);
		const message = await a.next('message', (f) => f.message.seq === seq);
		expect(message.message.mentions).toEqual([dave.id]);
	});

	it('replays edits, deletions and reactions that a reconnecting client missed', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		for (let n = 1; n <= 4; n++) await sendAndAck(a, `c${n}`, `m${n}`);
		const b = await connect(room, bob, 0);
		const welcome = await b.next('welcome');
		expect(welcome.rev).toBe(4);
		b.close();

		// While Bob is away: two edits of old messages, a deletion, a reaction, a new message.
		a.send({ type: 'edit', seq: 1, body: 'm1 (edited)' });
		a.send({ type: 'delete', seq: 2 });
		a.send({ type: 'react', seq: 3, emoji: '❤️', on: true });
		a.send({ type: 'edit', seq: 1, body: 'm1 (edited twice)' });
		await sendAndAck(a, 'c5', 'm5');

		const again = await connect(room, bob, 4, { lastRev: welcome.rev });
		const backlog = again.of('backlog')[0]!;
		expect(backlog.messages.map((m) => m.body)).toEqual(['m5']);
		const updates = new Map(backlog.updates!.map((m) => [m.seq, m]));
		expect([...updates.keys()].sort()).toEqual([1, 2, 3]);
		expect(updates.get(1)?.body).toBe('m1 (edited twice)');
		expect(updates.get(2)?.deletedAt).toEqual(expect.any(Number));
		expect(updates.get(3)?.reactions).toEqual({ '❤️': [alice.id] });

		// A client starting from nothing gets the current state of each message in its backlog.
		const fresh = await connect(room, bob, 0);
		expect(fresh.of('backlog')[0]!.messages.map((m) => m.body)).toEqual([
			'm1 (edited twice)',
			'',
			'm3',
			'm4',
			'm5'
		]);
	});

	it('persists every operation to D1, so history read after the flush shows them all', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const one = await sendAndAck(a, 'c1', 'first');
		const two = await sendAndAck(b, 'c2', `reply to @${alice.username}`, one);
		a.send({ type: 'edit', seq: one, body: 'first (edited)' });
		b.send({ type: 'react', seq: one, emoji: '👀', on: true });
		await a.until((f) => f.filter((x) => x.type === 'update').length === 2);

		await runDurableObjectAlarm(roomStub(room));
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);

		const page = await readHistory(db(), roomStub(room), room, {});
		expect(page.messages[0]).toMatchObject({
			seq: one,
			body: 'first (edited)',
			editedAt: expect.any(Number),
			reactions: { '👀': [bob.id] }
		});
		expect(page.messages[1]).toMatchObject({
			seq: two,
			mentions: [alice.id],
			replyTo: { seq: one, senderName: 'Alice', snippet: 'first (edited)', deleted: false }
		});
	});
});
