// The room's fan-out on its own, with stand-in sockets: how many payloads a stream of broadcasts
// costs each socket, which is what limits a large room under load.
import { describe, expect, it } from 'vitest';
import { Fanout, spacingFor } from '../../../workers/realtime/src/fanout';
import type { ServerFrame } from '$lib/protocol';

class FakeSocket {
	payloads: string[] = [];
	send(data: string) {
		this.payloads.push(data);
	}
	get seqs(): number[] {
		return this.payloads.flatMap((p) => {
			const data = JSON.parse(p) as ServerFrame | ServerFrame[];
			return (Array.isArray(data) ? data : [data]).flatMap((f) =>
				f.type === 'message' ? [f.message.seq] : []
			);
		});
	}
}

function message(seq: number): ServerFrame {
	return {
		type: 'message',
		message: {
			seq,
			clientId: `c${seq}`,
			senderId: 'alice',
			senderName: 'Alice',
			kind: 'text',
			body: `m${seq}`,
			createdAt: 0,
			rev: seq
		}
	};
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Broadcasts `count` messages `gapMs` apart to `sockets` stand-ins; returns them once all arrived. */
async function stream(
	sockets: number,
	count: number,
	gapMs: number
): Promise<{ fakes: FakeSocket[]; elapsed: number }> {
	const fanout = new Fanout();
	const fakes = Array.from({ length: sockets }, () => new FakeSocket());
	for (const fake of fakes) fanout.subscribe(fake as unknown as WebSocket);
	const start = Date.now();
	for (let seq = 1; seq <= count; seq++) {
		fanout.broadcast(message(seq));
		await sleep(gapMs);
	}
	const elapsed = Date.now() - start;
	await sleep(100);
	return { fakes, elapsed };
}

describe('the fan-out', () => {
	it('sends a message to a small room at once, one payload per message', async () => {
		const [first] = (await stream(3, 10, 20)).fakes;
		expect(first!.seqs).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
		expect(first!.payloads).toHaveLength(10);
	});

	it('gathers a fast stream into fewer payloads in a large room, losing and reordering nothing', async () => {
		const { fakes, elapsed } = await stream(1000, 60, 2);
		// Batches at least 20 ms apart: a handful of payloads where there were 60.
		expect(spacingFor(1000)).toBe(20);
		expect(fakes[0]!.payloads.length).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 2);
		expect(fakes[0]!.payloads.length).toBeLessThan(30);
		for (const fake of [fakes[0]!, fakes[999]!]) {
			expect(fake.seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
		}
	});

	it('sends at once in a large room that was quiet', async () => {
		const fanout = new Fanout();
		const fakes = Array.from({ length: 1000 }, () => new FakeSocket());
		for (const fake of fakes) fanout.subscribe(fake as unknown as WebSocket);
		await sleep(spacingFor(1000) + 5);
		fanout.broadcast(message(1));
		await sleep(1);
		expect(fakes[0]!.seqs).toEqual([1]);
	});
});
