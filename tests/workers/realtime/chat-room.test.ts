import { describe, expect, it } from 'vitest';
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { CloseCode, MAX_FRAME_BYTES, MAX_MESSAGE_LENGTH, SEND_RATE } from '$shared/protocol';
import { messages } from '$shared/db/schema';
import { readHistory } from '$lib/server/rooms/history';
import { connect, db, roomStub, seedRoom, seedUser } from '../../helpers';

async function storedSeqs(roomId: string) {
	const rows = await db()
		.select({ seq: messages.seq })
		.from(messages)
		.where(eq(messages.roomId, roomId))
		.orderBy(messages.seq);
	return rows.map((r) => r.seq);
}

describe('ChatRoom', () => {
	it('acknowledges a message with its seq and delivers it to everyone in the room', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		a.send({ type: 'send', clientId: 'm1', body: 'Hello Bob' });

		expect(await a.next('ack')).toEqual({ type: 'ack', clientId: 'm1', seq: 1 });
		const received = await b.next('message');
		expect(received.message).toMatchObject({
			seq: 1,
			clientId: 'm1',
			senderId: alice.id,
			senderName: 'Alice',
			body: 'Hello Bob'
		});
	});

	it('orders concurrent senders into one gap-free sequence that every client sees the same', async () => {
		const people = await Promise.all(['ann', 'ben', 'cat', 'dan'].map(seedUser));
		const room = await seedRoom(people[0]!, ...people.slice(1));
		const sockets = await Promise.all(people.map((p) => connect(room, p, 0)));
		// Within the per-user burst allowance, so that the rate limit does not enter into it.
		const perSender = SEND_RATE.burst;

		await Promise.all(
			sockets.map(async (socket, i) => {
				for (let n = 0; n < perSender; n++) {
					socket.send({ type: 'send', clientId: `p${i}-${n}`, body: `${i}:${n}` });
				}
			})
		);

		const total = perSender * sockets.length;
		for (const socket of sockets) {
			await socket.until((f) => f.filter((x) => x.type === 'message').length === total);
			const seqs = socket.of('message').map((f) => f.message.seq);
			expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
		}
		// Each sender's own messages keep the order they were sent in.
		const order = sockets[0]!.of('message').map((f) => f.message.body);
		for (let i = 0; i < sockets.length; i++) {
			const mine = order.filter((body) => body.startsWith(`${i}:`));
			expect(mine).toEqual(Array.from({ length: perSender }, (_, n) => `${i}:${n}`));
		}
	});

	it('answers a resend of the same clientId with the original seq and broadcasts it only once', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		a.send({ type: 'send', clientId: 'same', body: 'once' });
		await a.next('ack');
		a.send({ type: 'send', clientId: 'same', body: 'once' });
		a.send({ type: 'send', clientId: 'other', body: 'twice' });

		await a.until((f) => f.filter((x) => x.type === 'ack').length === 3);
		expect(a.of('ack').map((f) => [f.clientId, f.seq])).toEqual([
			['same', 1],
			['same', 1],
			['other', 2]
		]);
		await b.until((f) => f.filter((x) => x.type === 'message').length === 2);
		expect(b.of('message').map((f) => f.message.seq)).toEqual([1, 2]);
	});

	it('gives a reconnecting client exactly the messages it missed', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		for (let n = 1; n <= 10; n++) a.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 10);

		const b = await connect(room, bob);
		b.send({ type: 'hello', lastSeq: 4 });
		const backlog = await b.next('backlog');
		const welcome = await b.next('welcome');

		expect(welcome.lastSeq).toBe(10);
		expect(backlog.more).toBe(false);
		expect(backlog.messages.map((m) => m.seq)).toEqual([5, 6, 7, 8, 9, 10]);
	});

	it('loses nothing acknowledged when the object is evicted mid-conversation', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		for (let n = 1; n <= 5; n++) a.send({ type: 'send', clientId: `c${n}`, body: `before ${n}` });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 5);

		await evictDurableObject(roomStub(room), { webSockets: 'close' });

		const again = await connect(room, alice, 0);
		expect((again.of('backlog')[0]?.messages ?? []).map((m) => m.body)).toEqual([
			'before 1',
			'before 2',
			'before 3',
			'before 4',
			'before 5'
		]);
		again.send({ type: 'send', clientId: 'c6', body: 'after' });
		expect((await again.next('ack')).seq).toBe(6);
		// A resend of a message acknowledged before the eviction still gets its original seq.
		again.send({ type: 'send', clientId: 'c3', body: 'before 3' });
		expect((await again.next('ack', (f) => f.clientId === 'c3')).seq).toBe(3);
	});

	it('copies messages to D1 once, however often the flush runs', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		for (let n = 1; n <= 3; n++) a.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 3);

		expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
		expect(await storedSeqs(room)).toEqual([1, 2, 3]);
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);
		// Nothing left to flush, and running again changes nothing.
		await runDurableObjectAlarm(roomStub(room));
		expect(await storedSeqs(room)).toEqual([1, 2, 3]);
	});

	it('puts system messages in the same ordered timeline, once per event', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		a.send({ type: 'send', clientId: 'c1', body: 'hi' });
		await a.next('ack');

		const actor = { userId: alice.id, name: alice.name, username: alice.username };
		const post = () =>
			roomStub(room).postSystemMessage(room, 'added:bob', 'Alice added Bob', actor);
		const first = await post();
		const again = await post();

		expect(first).toMatchObject({
			seq: 2,
			kind: 'system',
			senderId: alice.id,
			body: 'Alice added Bob'
		});
		expect(again.seq).toBe(2);
		const received = await a.next('message', (f) => f.message.kind === 'system');
		expect(received.message.seq).toBe(2);
		await runDurableObjectAlarm(roomStub(room));
		expect(await storedSeqs(room)).toEqual([1, 2]);
	});

	it("closes a removed member's sockets at once and leaves everyone else connected", async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b1 = await connect(room, bob, 0);
		const b2 = await connect(room, bob, 0);

		expect(await roomStub(room).disconnectUser(bob.id)).toBe(2);

		await b1.until(() => b1.closed);
		await b2.until(() => b2.closed);
		expect(b1.closed?.code).toBe(CloseCode.Removed);
		a.send({ type: 'send', clientId: 'c1', body: 'still here' });
		expect((await a.next('ack')).seq).toBe(1);
		expect(b1.of('message')).toEqual([]);
		// Bob is no longer listed to newcomers.
		const carol = await seedUser('carol');
		const c = await connect(room, carol, 0);
		expect(c.of('welcome')[0]?.presence.map((p) => p.userId)).not.toContain(bob.id);
	});

	it('coalesces broadcasts under load: many messages arrive in far fewer payloads', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		b.clear();

		for (let n = 0; n < SEND_RATE.burst; n++) {
			a.send({ type: 'send', clientId: `c${n}`, body: `burst ${n}` });
		}

		await b.until((f) => f.filter((x) => x.type === 'message').length === SEND_RATE.burst);
		expect(b.of('message').map((f) => f.message.seq)).toEqual(
			Array.from({ length: SEND_RATE.burst }, (_, i) => i + 1)
		);
		expect(b.payloads).toBeLessThan(SEND_RATE.burst / 2);
	});

	it('gives a client that reconnects mid-conversation exactly what it missed, while others keep sending', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		for (let n = 1; n <= 3; n++) a.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
		await b.until((f) => f.filter((x) => x.type === 'message').length === 3);
		b.close();

		for (let n = 4; n <= 8; n++) a.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 8);
		// Bob reconnects while Alice keeps talking: the backlog and the live stream meet exactly.
		const again = await connect(room, bob);
		for (let n = 9; n <= 12; n++) a.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
		again.send({ type: 'hello', lastSeq: 3 });
		await again.until(() => {
			const seqs = [
				...(again.of('backlog')[0]?.messages ?? []).map((m) => m.seq),
				...again.of('message').map((f) => f.message.seq)
			];
			return seqs.length >= 9 && seqs;
		});
		const seqs = [
			...again.of('backlog')[0]!.messages.map((m) => m.seq),
			...again.of('message').map((f) => f.message.seq)
		].sort((x, y) => x - y);
		expect(seqs).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
	});

	it('limits how fast one person can send, with an error that says when to try again', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		const total = SEND_RATE.burst + 5;
		for (let n = 0; n < total; n++) a.send({ type: 'send', clientId: `c${n}`, body: `${n}` });

		await a.until((f) => f.filter((x) => x.type === 'ack' || x.type === 'error').length === total);
		const refused = a.of('error');
		expect(a.of('ack').length).toBeGreaterThanOrEqual(SEND_RATE.burst);
		expect(refused.length).toBeGreaterThan(0);
		expect(refused[0]).toMatchObject({
			code: 'rate_limited',
			clientId: expect.any(String),
			retryAfterMs: expect.any(Number)
		});
		expect(refused[0]!.message).toMatch(/too fast/);
		// The limit is per person: Bob is not slowed down by Alice.
		b.send({ type: 'send', clientId: 'b1', body: 'unaffected' });
		expect((await b.next('ack')).clientId).toBe('b1');
		// After the wait it says, the refused message goes through with its clientId.
		await new Promise((resolve) => setTimeout(resolve, refused.at(-1)!.retryAfterMs! + 50));
		const accepted = a.of('ack').length + b.of('ack').length;
		a.send({ type: 'send', clientId: refused[0]!.clientId, body: 'again' });
		expect((await a.next('ack', (f) => f.clientId === refused[0]!.clientId)).seq).toBe(
			accepted + 1
		);
	});

	it('refuses a flood of frames on one socket without taking the room down', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		for (let n = 0; n < 200; n++) a.send({ type: 'typing' });

		const error = await a.next('error');
		expect(error.code).toBe('rate_limited');
		b.send({ type: 'send', clientId: 'b1', body: 'still fine' });
		expect((await b.next('ack')).seq).toBe(1);
	});

	describe('bad input gets a typed error, changes nothing, and the connection keeps working', () => {
		const cases: [string, unknown, string][] = [
			['not JSON', 'hello there', 'bad_frame'],
			['an unknown frame type', { type: 'shout', body: 'hi' }, 'bad_frame'],
			['a frame without a type', { body: 'hi' }, 'bad_frame'],
			['a send without a clientId', { type: 'send', body: 'hi' }, 'bad_frame'],
			['a body that is not text', { type: 'send', clientId: 'x', body: 42 }, 'bad_frame'],
			['a negative lastSeq', { type: 'hello', lastSeq: -1 }, 'bad_frame'],
			['an empty message', { type: 'send', clientId: 'x', body: '   ' }, 'empty_message'],
			[
				'a message over the length limit',
				{ type: 'send', clientId: 'x', body: 'y'.repeat(MAX_MESSAGE_LENGTH + 1) },
				'message_too_long'
			],
			['an oversized frame', 'z'.repeat(MAX_FRAME_BYTES + 1), 'frame_too_large'],
			[
				'a reply to something that is not a seq',
				{ type: 'send', clientId: 'x', body: 'hi', replyTo: 'one' },
				'bad_frame'
			],
			['an edit without a seq', { type: 'edit', body: 'new words' }, 'bad_frame'],
			[
				'an edit of a message that does not exist',
				{ type: 'edit', seq: 7, body: 'new' },
				'not_found'
			],
			['an edit that empties a message', { type: 'edit', seq: 1, body: '' }, 'empty_message'],
			['a delete of seq 0', { type: 'delete', seq: 0 }, 'bad_frame'],
			['a delete of a message that does not exist', { type: 'delete', seq: 9 }, 'not_found'],
			[
				'a reaction that is not an emoji',
				{ type: 'react', seq: 1, emoji: 'lol', on: true },
				'bad_frame'
			],
			['a reaction of two emoji', { type: 'react', seq: 1, emoji: '👍👍', on: true }, 'bad_frame'],
			['a reaction without on/off', { type: 'react', seq: 1, emoji: '👍' }, 'bad_frame'],
			[
				'a reaction to a message that does not exist',
				{ type: 'react', seq: 5, emoji: '👍', on: true },
				'not_found'
			],
			['a read position that is not a number', { type: 'read', seq: 'all' }, 'bad_frame'],
			[
				'an activity that is neither away nor back',
				{ type: 'activity', away: 'maybe' },
				'bad_frame'
			],
			['a JSON array instead of a frame', [{ type: 'typing' }], 'bad_frame'],
			['binary garbage', new Uint8Array([0xff, 0xfe, 0x00]).buffer, 'bad_frame']
		];
		for (const [what, frame, code] of cases) {
			it(`refuses ${what}`, async () => {
				const alice = await seedUser('alice');
				const room = await seedRoom(alice);
				const a = await connect(room, alice, 0);
				a.send({ type: 'send', clientId: 'first', body: 'original' });
				await a.next('ack');

				a.send(frame);
				const error = await a.next('error');
				expect(error.code).toBe(code);
				expect(error.message).toEqual(expect.any(String));
				expect(error.message).not.toMatch(/at .*\(.*:\d+:\d+\)/);

				a.send({ type: 'send', clientId: 'ok', body: 'still here' });
				expect((await a.next('ack', (f) => f.clientId === 'ok')).seq).toBe(2);
				expect(await roomStub(room).lastSeq()).toBe(2);
				const [original] = (await readHistory(db(), roomStub(room), room, {})).messages;
				expect(original).toMatchObject({ seq: 1, body: 'original' });
				expect(original?.reactions).toBeUndefined();
				expect(original?.editedAt).toBeUndefined();
				expect(a.of('update')).toEqual([]);
			});
		}
	});
});
