// One sender's order: a client that pipelines its sends and, when the room refuses one for rate,
// resends from the first unacknowledged one, gets its messages stored in the order it wrote them,
// whatever the rates. The room refuses anything new behind a refused send until it comes again.
import { describe, expect, it } from 'vitest';
import { ErrorCode, SEND_RATE } from '$shared/protocol';
import { runInDurableObject } from 'cloudflare:test';
import type { ChatRoom } from '../../workers/realtime/src/chat-room';
import { connect, roomStub, seedRoom, seedUser, sleep, type TestSocket } from '../helpers';

type Answer = { clientId: string; seq?: number; code?: string; retryAfterMs?: number };

/** Every ack and error `socket` got, as answers to the sends they name. */
function answers(socket: TestSocket): Answer[] {
	return socket.frames.flatMap((f): Answer[] => {
		if (f.type === 'ack') return [{ clientId: f.clientId, seq: f.seq }];
		if (f.type === 'error') {
			return [{ clientId: f.clientId ?? '', code: f.code, retryAfterMs: f.retryAfterMs }];
		}
		return [];
	});
}

describe("one sender's order under the rate limits", () => {
	it("alice's 100 pipelined sends, resent from the first refused one, keep her order exactly", async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		const ids = Array.from({ length: 100 }, (_, i) => `m${String(i).padStart(3, '0')}`);
		const acked = new Map<string, number>();

		let from = 0;
		for (let round = 0; from !== -1; round++) {
			expect(round).toBeLessThan(200);
			a.clear();
			// Back to back, faster than both limits: the first round is 100 frames at once.
			const batch = ids.slice(from);
			for (const id of batch) a.send({ type: 'send', clientId: id, body: `note ${id}` });
			await a.until(() => answers(a).length >= batch.length, 10_000);

			const got = answers(a);
			expect(got).toHaveLength(batch.length);
			// Every answer names its send, so the client knows which one to resend.
			expect(got.map((x) => x.clientId)).toEqual(batch);
			for (const answer of got) {
				if (answer.seq !== undefined) acked.set(answer.clientId, answer.seq);
				else expect(answer).toMatchObject({ code: ErrorCode.RateLimited });
			}
			from = ids.findIndex((id) => !acked.has(id));
			if (from === -1) break;
			const refused = got.find((x) => x.clientId === ids[from])!;
			expect(refused.retryAfterMs).toBeGreaterThan(0);
			await sleep(refused.retryAfterMs!);
		}

		// Stored in the order written: seqs 1..100 follow the clientIds, nothing lost or doubled.
		expect(ids.map((id) => acked.get(id))).toEqual(ids.map((_, i) => i + 1));
		await b.until(() => b.of('message').length >= ids.length, 5000);
		expect(b.of('message').map((f) => [f.message.seq, f.message.clientId])).toEqual(
			ids.map((id, i) => [i + 1, id])
		);
		const carol = await connect(room, await seedUser('carol'), 0);
		expect(carol.of('backlog')[0]?.messages.map((m) => m.clientId)).toEqual(ids);
	}, 60_000);

	it('a send that comes after a refused one, before it is resent, is refused even with a token to spare', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		for (let n = 0; n < SEND_RATE.burst; n++) {
			a.send({ type: 'send', clientId: `warm${n}`, body: `${n}` });
		}
		await a.until(() => a.of('ack').length === SEND_RATE.burst);

		a.send({ type: 'send', clientId: 'x', body: 'the first of two' });
		const refused = await a.next('error', (f) => f.clientId === 'x');
		expect(refused).toMatchObject({ code: ErrorCode.RateLimited });
		// A token is there again: a client that skipped ahead would now overtake x.
		await sleep(refused.retryAfterMs! + 50);
		a.send({ type: 'send', clientId: 'y', body: 'the second of two' });
		const held = await a.next('error', (f) => f.clientId === 'y');
		expect(held).toMatchObject({ code: ErrorCode.RateLimited, retryAfterMs: expect.any(Number) });
		expect(a.of('ack').filter((f) => f.clientId === 'y')).toEqual([]);

		// x comes again and takes the token, then y follows it.
		a.send({ type: 'send', clientId: 'x', body: 'the first of two' });
		expect((await a.next('ack', (f) => f.clientId === 'x')).seq).toBe(SEND_RATE.burst + 1);
		await sleep(1000 / SEND_RATE.perSecond + 50);
		a.send({ type: 'send', clientId: 'y', body: 'the second of two' });
		expect((await a.next('ack', (f) => f.clientId === 'y')).seq).toBe(SEND_RATE.burst + 2);
	});

	it('a refused send answered by another error on its return no longer holds the ones after it', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		for (let n = 0; n < SEND_RATE.burst; n++) {
			a.send({ type: 'send', clientId: `warm${n}`, body: `${n}` });
		}
		await a.until(() => a.of('ack').length === SEND_RATE.burst);

		// A reply to a message that does not exist: refused for rate first, then for what it is.
		a.send({ type: 'send', clientId: 'x', body: 'replying', replyTo: 999 });
		const refused = await a.next('error', (f) => f.clientId === 'x');
		await sleep(refused.retryAfterMs! + 50);
		a.send({ type: 'send', clientId: 'x', body: 'replying', replyTo: 999 });
		await a.next('error', (f) => f.clientId === 'x' && f.code === ErrorCode.NotFound);
		await sleep(1000 / SEND_RATE.perSecond + 50);
		a.send({ type: 'send', clientId: 'y', body: 'next' });
		expect((await a.next('ack', (f) => f.clientId === 'y')).seq).toBe(SEND_RATE.burst + 1);
	});

	it('a send the room fails on is named in the error, so the ones after it are not held up', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const a = await connect(room, alice, 0);
		// The room's own storage fails under this send (after the message is stored and acked).
		await runInDurableObject(roomStub(room), (_room: ChatRoom, state) => {
			state.storage.setAlarm = () => Promise.reject(new Error('injected storage failure'));
			state.storage.getAlarm = () => Promise.reject(new Error('injected storage failure'));
		});
		a.send({ type: 'send', clientId: 'unlucky', body: 'hello' });
		await a.until(() => a.of('error').length > 0, 5000);
		expect(a.of('error')[0]).toMatchObject({ code: ErrorCode.Internal, clientId: 'unlucky' });
	});
});
