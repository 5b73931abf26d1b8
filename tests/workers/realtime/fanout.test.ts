// The room's fan-out on its own, with stand-in sockets: how many payloads a stream of broadcasts
// costs each socket, which is what limits a large room under load.
import { describe, expect, it } from 'vitest';
import { Fanout, spacingFor } from '../../../workers/realtime/src/fanout';
import type { ServerFrame } from '$shared/protocol';

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

	it("sends a sender's ack before the message reaches the rest of a large room", async () => {
		const fanout = new Fanout();
		const order: number[] = [];
		const fakes = Array.from({ length: 1000 }, (_, i) => ({
			payloads: [] as string[],
			send(data: string) {
				order.push(i);
				this.payloads.push(data);
			}
		}));
		for (const fake of fakes) fanout.subscribe(fake as unknown as WebSocket);
		const sender = fakes[999]!;
		fanout.send(sender as unknown as WebSocket, { type: 'ack', clientId: 'c1', seq: 1 });
		fanout.broadcast(message(1));
		fanout.flush();

		expect(order[0]).toBe(999);
		expect(order).toHaveLength(1000);
		// Its own payload: the ack first, then the message everyone gets.
		expect(JSON.parse(sender.payloads[0]!)).toMatchObject([{ type: 'ack' }, { type: 'message' }]);
		expect(JSON.parse(fakes[0]!.payloads[0]!)).toMatchObject({ type: 'message' });
	});

	it('still gives a closing socket what was addressed to it, and nothing else', () => {
		const fanout = new Fanout();
		const staying = new FakeSocket();
		const closing = new FakeSocket();
		fanout.subscribe(staying as unknown as WebSocket);
		fanout.subscribe(closing as unknown as WebSocket);
		fanout.unsubscribe(closing as unknown as WebSocket);
		fanout.send(closing as unknown as WebSocket, {
			type: 'error',
			code: 'bad_frame',
			message: 'again'
		});
		fanout.broadcast(message(1));
		fanout.flush();
		expect(closing.payloads).toEqual([
			JSON.stringify({ type: 'error', code: 'bad_frame', message: 'again' })
		]);
		expect(staying.seqs).toEqual([1]);
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
