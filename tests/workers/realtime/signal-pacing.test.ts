// How a room's waiting unread signals leave after their window: the pacing rule on its own, by
// the chunks and pauses it gives (the time a chunk's lookup and calls take is the runtime's).
import { describe, expect, it } from 'vitest';
import {
	CHUNK_GAP_MS,
	MAX_SIGNAL_CHUNK,
	MIN_CHUNK_GAP_MS,
	SIGNAL_CHUNK,
	SIGNAL_SPREAD_MS,
	signalPacing
} from '../../../workers/realtime/src/unread-signals';

/** The chunks a sweep of `waiting` signals makes, and the pauses between them in all. */
function sweep(waiting: number) {
	const { chunk, gapMs } = signalPacing(waiting);
	const chunks = Math.ceil(waiting / chunk);
	return { chunk, chunks, pausesMs: (chunks - 1) * gapMs, gapMs };
}

describe('the pacing of unread signals', () => {
	it('tells a handful of offline members in one chunk, with no pause', () => {
		expect(sweep(1)).toMatchObject({ chunks: 1, pausesMs: 0 });
		expect(sweep(SIGNAL_CHUNK)).toMatchObject({ chunk: SIGNAL_CHUNK, chunks: 1, pausesMs: 0 });
	});

	it("tells alice's 499 fellow members of a 500-member room in four chunks, the pauses within the spread", () => {
		const { chunks, pausesMs, chunk } = sweep(499);
		expect(chunks).toBe(4);
		expect(chunk).toBeLessThanOrEqual(MAX_SIGNAL_CHUNK);
		expect(pausesMs).toBeLessThanOrEqual(SIGNAL_SPREAD_MS);
		// Fixed chunks of 50 with 100 ms pauses took 900 ms of pauses alone.
		expect(pausesMs).toBeLessThan(9 * CHUNK_GAP_MS);
	});

	it('never has more than the largest chunk of hub calls under way, however large the room', () => {
		for (const waiting of [1_000, 10_000, 100_000]) {
			const { chunk, gapMs } = sweep(waiting);
			expect(chunk).toBe(MAX_SIGNAL_CHUNK);
			// Many chunks share the spread, but each still leaves the room a pause to serve sockets.
			expect(gapMs).toBeGreaterThanOrEqual(MIN_CHUNK_GAP_MS);
			expect(gapMs).toBeLessThanOrEqual(CHUNK_GAP_MS);
		}
	});

	it('makes chunks no smaller than before, so D1 is asked no more often', () => {
		for (let waiting = 1; waiting <= 2_000; waiting += 37) {
			expect(sweep(waiting).chunks).toBeLessThanOrEqual(Math.ceil(waiting / SIGNAL_CHUNK));
		}
	});
});
