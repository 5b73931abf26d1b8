// The search endpoint as a browser calls it, and a message's way from a live room to search:
// sent, edited and deleted through the room object, and found (or not) once its flush has run.
import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { GET } from '../../../../src/routes/api/search/+server';
import { signedInBrowser } from '../../../support/accounts';
import { TestBrowser } from '../../../support/request-event';
import { connect, roomStub, seedRoom, seedUser, type Person } from '../../../helpers';

async function jsonOf(outcome: Awaited<ReturnType<TestBrowser['call']>>) {
	if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}`);
	return {
		status: outcome.response.status,
		retryAfter: outcome.response.headers.get('retry-after'),
		body: (await outcome.response.json()) as Record<string, never>
	};
}

async function search(person: Person, query: string) {
	const browser = await signedInBrowser(person);
	return jsonOf(await browser.call(GET, { path: `/api/search?${query}` }));
}

function word(): string {
	return `w${Math.random().toString(36).slice(2, 10)}`;
}

describe('GET /api/search', () => {
	it('asks for a session', async () => {
		const outcome = await new TestBrowser().call(GET, { path: '/api/search?q=hello' });
		expect(outcome).toMatchObject({ kind: 'error', status: 401 });
	});

	it('refuses bad input in the one JSON shape, and changes nothing', async () => {
		const ana = await seedUser('ana');
		for (const [query, code] of [
			['q=*', 'bad_input'],
			['q=hello&sort=loudest', 'bad_input'],
			['q=hello&cursor=nonsense', 'bad_input'],
			['q=has:everything', 'bad_input'],
			[`q=${'x'.repeat(201)}`, 'bad_input']
		] as const) {
			const answer = await search(ana, query);
			expect(answer.status, query).toBe(400);
			expect(answer.body, query).toEqual({
				error: { code, message: expect.stringMatching(/\w.{8,}/) }
			});
		}
	});

	it('finds a message sent, then edited, then deleted through the live room', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const roomId = await seedRoom(ana, bob);
		const socket = await connect(roomId, ana, 0);
		const w = word();
		socket.send({ type: 'send', clientId: 'c1', body: `${w} launch checklist` });
		const ack = await socket.next('ack');
		// The flush copies it to D1 (the alarm, run now rather than in 250 ms).
		await runDurableObjectAlarm(roomStub(roomId));

		const found = await search(bob, `q=${w}`);
		expect(found.status).toBe(200);
		expect(found.body).toMatchObject({
			query: { terms: [{ kind: 'word', text: w }] },
			messages: {
				items: [
					{
						roomId,
						seq: ack.seq,
						author: { id: ana.id, displayName: 'Ana' },
						snippet: [
							{ text: w, match: true },
							{ text: ' launch checklist', match: false }
						]
					}
				],
				nextCursor: null
			}
		});

		socket.send({ type: 'edit', seq: ack.seq, body: `${w} liftoff list` });
		await socket.next('update');
		await runDurableObjectAlarm(roomStub(roomId));
		expect((await search(bob, `q=${w}+checklist`)).body).toMatchObject({ messages: { items: [] } });
		expect((await search(bob, `q=${w}+liftoff`)).body).toMatchObject({
			messages: { items: [{ seq: ack.seq }] }
		});

		socket.send({ type: 'delete', seq: ack.seq });
		await socket.next('update');
		await runDurableObjectAlarm(roomStub(roomId));
		expect((await search(bob, `q=${w}`)).body).toMatchObject({ messages: { items: [] } });
		socket.close();
	});

	it('answers 429 with Retry-After when one person searches too fast', async () => {
		const ana = await seedUser('ana');
		const browser = await signedInBrowser(ana);
		let last = null;
		for (let i = 0; i < 125; i++) {
			last = await jsonOf(await browser.call(GET, { path: `/api/search?q=${word()}` }));
			if (last.status !== 200) break;
		}
		expect(last!.status).toBe(429);
		expect(Number(last!.retryAfter)).toBeGreaterThan(0);
		expect(last!.body).toEqual({
			error: { code: 'rate_limited', message: expect.stringContaining('Searching too fast') }
		});
	});
});
