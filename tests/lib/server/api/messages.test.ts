// Messages through the API go through the room object like any other: ordered, stored before they
// are answered, broadcast live, idempotent by clientId, within the sender's rate, and judged by
// the same rules as a socket's frames.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { MAX_MESSAGE_LENGTH, SEND_RATE } from '$shared/protocol';
import { HistoryPage, MessageAnswer } from '$lib/server/api/schemas';
import * as history from '../../../../src/routes/api/v1/rooms/[id]/messages/+server';
import * as message from '../../../../src/routes/api/v1/rooms/[id]/messages/[seq]/+server';
import * as reaction from '../../../../src/routes/api/v1/rooms/[id]/messages/[seq]/reactions/[emoji]/+server';
import * as read from '../../../../src/routes/api/v1/rooms/[id]/read/+server';
import { connect, db, roomStub, seedRoom, seedUser, type Person } from '../../../helpers';
import { tokenFor, type TokenClient } from './support';

function send(client: TokenClient, roomId: string, json: unknown) {
	return client.call(history.POST, {
		path: `/api/v1/rooms/${roomId}/messages`,
		params: { id: roomId },
		json
	});
}

function page(client: TokenClient, roomId: string, query = '') {
	return client.call(history.GET, {
		path: `/api/v1/rooms/${roomId}/messages${query}`,
		params: { id: roomId }
	});
}

async function roomWith(...names: string[]) {
	const people: Person[] = [];
	for (const name of names) people.push(await seedUser(name));
	const roomId = await seedRoom(people[0]!, ...people.slice(1));
	return { roomId, people };
}

describe('sending', () => {
	it('stores a message, answers it with its seq, and everyone connected sees it at once', async () => {
		const { roomId, people } = await roomWith('ana', 'bob');
		const [ana, bob] = people as [Person, Person];
		const bobs = await connect(roomId, bob, 0);
		const sent = await send(await tokenFor(ana), roomId, {
			clientId: 'c1',
			body: 'Hello from a **script**'
		});
		expect(sent.status).toBe(201);
		expect(v.is(MessageAnswer, sent.body)).toBe(true);
		expect(sent.body.message).toMatchObject({
			seq: 1,
			senderId: ana.id,
			senderName: 'Ana',
			body: 'Hello from a **script**'
		});
		const live = await bobs.next('message');
		expect(live.message).toEqual(sent.body.message);
		// Stored before the answer: the room has it, and the history reads it back.
		expect(await roomStub(roomId).lastSeq()).toBe(1);
		expect((await page(await tokenFor(bob), roomId)).body.messages).toEqual([sent.body.message]);
	});

	it('sends once however often a request is retried with the same clientId, even all at once', async () => {
		const { roomId, people } = await roomWith('ana');
		const client = await tokenFor(people[0]!);
		const answers = await Promise.all(
			Array.from({ length: 6 }, () => send(client, roomId, { clientId: 'retry-me', body: 'once' }))
		);
		const seqs = new Set(answers.map((a) => a.body.message.seq));
		expect(seqs).toEqual(new Set([1]));
		expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
		expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
		expect(await roomStub(roomId).lastSeq()).toBe(1);
	});

	it('gives concurrent sends distinct seqs with no gaps, in the order the room stored them', async () => {
		const { roomId, people } = await roomWith('ana', 'bob');
		const [ana, bob] = people as [Person, Person];
		const n = Math.min(10, SEND_RATE.burst);
		const [anas, bobs] = [await tokenFor(ana), await tokenFor(bob)];
		const answers = await Promise.all(
			Array.from({ length: n }, (_, i) =>
				send(i % 2 ? bobs : anas, roomId, { clientId: `c${i}`, body: `m${i}` })
			)
		);
		expect(answers.map((a) => a.status)).toEqual(Array(n).fill(201));
		const seqs = answers.map((a) => a.body.message.seq as number).sort((a, b) => a - b);
		expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1));
		const stored = (await page(anas, roomId)).body.messages as { seq: number; body: string }[];
		expect(stored.map((m) => m.seq)).toEqual(seqs);
		for (const answer of answers) {
			expect(stored.find((m) => m.seq === answer.body.message.seq)!.body).toBe(
				answer.body.message.body
			);
		}
	});

	it('shares the sender’s rate with their sockets: past it, 429 with Retry-After and nothing stored', async () => {
		const { roomId, people } = await roomWith('ana');
		const ana = people[0]!;
		const socket = await connect(roomId, ana, 0);
		for (let i = 0; i < SEND_RATE.burst; i++)
			socket.send({ type: 'send', clientId: `s${i}`, body: `socket ${i}` });
		await socket.until(
			(frames) => frames.filter((f) => f.type === 'ack').length === SEND_RATE.burst
		);
		const refused = await send(await tokenFor(ana), roomId, {
			clientId: 'over',
			body: 'one too many'
		});
		expect(refused.status).toBe(429);
		expect(refused.body.error.code).toBe('rate_limited');
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(await roomStub(roomId).lastSeq()).toBe(SEND_RATE.burst);
	});

	it('refuses bad input with a clear error and changes nothing', async () => {
		const { roomId, people } = await roomWith('ana');
		const client = await tokenFor(people[0]!);
		const cases: [unknown, number, string, string?][] = [
			[{ body: 'no client id' }, 400, 'bad_input', 'clientId'],
			[{ clientId: 'c', body: 42 }, 400, 'bad_input', 'body'],
			[{ clientId: 'c', body: 'x', replyTo: 0 }, 400, 'bad_input', 'replyTo'],
			[{ clientId: 'c', body: '   ' }, 400, 'empty_message'],
			[{ clientId: 'c', body: 'x'.repeat(MAX_MESSAGE_LENGTH + 1) }, 413, 'message_too_long'],
			[{ clientId: 'c', body: 'a reply', replyTo: 99 }, 404, 'not_found'],
			[{ clientId: 'c', body: 'x', attachments: ['not-mine'] }, 400, 'invalid_attachment']
		];
		for (const [json, status, code, path] of cases) {
			const answer = await send(client, roomId, json);
			expect(answer.status, JSON.stringify(json).slice(0, 80)).toBe(status);
			expect(answer.body.error.code).toBe(code);
			expect(answer.body.error.message).toMatch(/\w{3}/);
			if (path) expect(answer.body.error.details).toContainEqual(expect.objectContaining({ path }));
		}
		const notJson = await client.call(history.POST, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			json: '{"clientId": "c", "body": '
		});
		expect([notJson.status, notJson.body.error.code]).toEqual([400, 'bad_json']);
		const form = await client.call(history.POST, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			form: { clientId: 'c', body: 'a form' }
		});
		expect([form.status, form.body.error.code]).toEqual([415, 'unsupported_media_type']);
		expect(await roomStub(roomId).lastSeq()).toBe(0);
	});

	it('answers a room the caller cannot see as missing, and one they were removed from likewise', async () => {
		const { roomId, people } = await roomWith('ana', 'bob');
		const eve = await seedUser('eve');
		const answer = await send(await tokenFor(eve), roomId, { clientId: 'c', body: 'let me in' });
		expect([answer.status, answer.body.error.code]).toEqual([404, 'not_found']);
		const nonsense = await send(await tokenFor(eve), 'NOT AN ID', { clientId: 'c', body: 'x' });
		expect(nonsense.status).toBe(400);
		const bob = people[1]!;
		const bobs = await tokenFor(bob);
		await db().run(`DELETE FROM memberships WHERE room_id = '${roomId}' AND user_id = '${bob.id}'`);
		expect((await send(bobs, roomId, { clientId: 'c', body: 'still here?' })).status).toBe(404);
		expect(await roomStub(roomId).lastSeq()).toBe(0);
	});
});

describe('changing messages', () => {
	it('edits only one’s own message, deletes one’s own or (as an admin) anyone’s', async () => {
		const { roomId, people } = await roomWith('ana', 'bob', 'cy');
		const [ana, bob, cy] = people as [Person, Person, Person];
		const [anas, bobs, cys] = [await tokenFor(ana), await tokenFor(bob), await tokenFor(cy)];
		const seq = (await send(bobs, roomId, { clientId: 'b1', body: 'first draft' })).body.message
			.seq;
		const path = `/api/v1/rooms/${roomId}/messages/${seq}`;
		const params = { id: roomId, seq: String(seq) };

		const edited = await bobs.call(message.PATCH, {
			path,
			params,
			method: 'PATCH',
			json: { body: 'final' }
		});
		expect(edited.status).toBe(200);
		expect(edited.body.message).toMatchObject({ body: 'final', editedAt: expect.any(Number) });
		const notHis = await anas.call(message.PATCH, {
			path,
			params,
			method: 'PATCH',
			json: { body: 'hijacked' }
		});
		expect([notHis.status, notHis.body.error.code]).toEqual([403, 'forbidden']);
		const memberDelete = await cys.call(message.DELETE, { path, params, method: 'DELETE' });
		expect(memberDelete.status).toBe(403);

		// The owner (ana) deletes bob's message; deleting again is not an error.
		const deleted = await anas.call(message.DELETE, { path, params, method: 'DELETE' });
		expect(deleted.status).toBe(200);
		expect(deleted.body.message).toMatchObject({ body: '', deletedAt: expect.any(Number) });
		expect((await anas.call(message.DELETE, { path, params, method: 'DELETE' })).status).toBe(200);
		const gone = await bobs.call(message.PATCH, {
			path,
			params,
			method: 'PATCH',
			json: { body: 'back' }
		});
		expect(gone.status).toBe(404);

		// A member made admin may delete others' messages too: the role is read from D1 each time.
		const cySeq = (await send(bobs, roomId, { clientId: 'b2', body: 'second' })).body.message.seq;
		await db().run(
			`UPDATE memberships SET role = 'admin' WHERE room_id = '${roomId}' AND user_id = '${cy.id}'`
		);
		const byAdmin = await cys.call(message.DELETE, {
			path: `/api/v1/rooms/${roomId}/messages/${cySeq}`,
			params: { id: roomId, seq: String(cySeq) },
			method: 'DELETE'
		});
		expect(byAdmin.status).toBe(200);
	});

	it('adds and takes back reactions idempotently, and refuses what is not one emoji', async () => {
		const { roomId, people } = await roomWith('ana', 'bob');
		const [ana, bob] = people as [Person, Person];
		const [anas, bobs] = [await tokenFor(ana), await tokenFor(bob)];
		const seq = (await send(anas, roomId, { clientId: 'a1', body: 'ship it?' })).body.message.seq;
		const react = (client: TokenClient, emoji: string, method: 'PUT' | 'DELETE') =>
			client.call(method === 'PUT' ? reaction.PUT : reaction.DELETE, {
				path: `/api/v1/rooms/${roomId}/messages/${seq}/reactions/${encodeURIComponent(emoji)}`,
				params: { id: roomId, seq: String(seq), emoji },
				method
			});
		await react(bobs, '👍', 'PUT');
		const twice = await react(bobs, '👍', 'PUT');
		expect(twice.body.message.reactions).toEqual({ '👍': [bob.id] });
		await react(anas, '👍', 'PUT');
		const back = await react(bobs, '👍', 'DELETE');
		expect(back.body.message.reactions).toEqual({ '👍': [ana.id] });
		const word = await react(bobs, 'yes', 'PUT');
		expect([word.status, word.body.error.code]).toEqual([400, 'bad_input']);
	});

	it('marks read up to a seq, never back and never past the newest', async () => {
		const { roomId, people } = await roomWith('ana', 'bob');
		const [ana, bob] = people as [Person, Person];
		const anas = await tokenFor(ana);
		for (let i = 1; i <= 3; i++) await send(anas, roomId, { clientId: `m${i}`, body: `m${i}` });
		const bobs = await tokenFor(bob);
		const mark = (seq: number) =>
			bobs.call(read.POST, {
				path: `/api/v1/rooms/${roomId}/read`,
				params: { id: roomId },
				json: { seq }
			});
		expect((await mark(2)).status).toBe(204);
		await mark(1);
		await mark(99);
		const watcher = await connect(roomId, ana, 0);
		const welcome = await watcher.next('welcome');
		expect(welcome.receipts).toContainEqual(
			expect.objectContaining({ userId: bob.id, readSeq: 3 })
		);
	});
});

describe('reading history', () => {
	it('pages back by cursor without gaps or repeats, and refuses two cursors at once', async () => {
		const { roomId, people } = await roomWith('ana');
		const client = await tokenFor(people[0]!);
		// Sent over a socket, within the sender's burst.
		const socket = await connect(roomId, people[0]!, 0);
		for (let i = 1; i <= 18; i++) {
			socket.send({ type: 'send', clientId: `p${i}`, body: `page ${i}` });
			await socket.next('ack', (f) => f.clientId === `p${i}`);
		}
		const seen: number[] = [];
		let query = '?limit=5';
		for (;;) {
			const answer = await page(client, roomId, query);
			expect(v.is(HistoryPage, answer.body)).toBe(true);
			seen.unshift(...answer.body.messages.map((m: { seq: number }) => m.seq));
			if (!answer.body.hasMore) break;
			query = `?limit=5&before=${answer.body.messages[0].seq}`;
		}
		expect(seen).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
		const both = await page(client, roomId, '?before=5&after=2');
		expect([both.status, both.body.error.code]).toEqual([400, 'bad_input']);
		const tooMany = await page(client, roomId, '?limit=500');
		expect(tooMany.body.error.details[0].path).toBe('limit');
	});
});
