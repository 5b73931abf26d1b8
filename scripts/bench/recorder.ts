// What one measured run (a scenario, or one step of one) sent and who received it when.
// Messages are numbered; their clientId is `<prefix><number>`, so a receipt finds its send time in
// a typed array without a map lookup or an allocation.
import { performance } from 'node:perf_hooks';
import { Histogram, PerSecond } from './stats.ts';

let runs = 0;

export class Recorder {
	readonly prefix: string;
	readonly capacity: number;
	readonly sentAt: Float64Array;
	/** The seq the room gave each message (from its ack); 0 while unacknowledged, -1 if refused. */
	readonly ackSeq: Float64Array;
	readonly latency: Histogram;
	readonly ackLatency: Histogram;
	readonly perSecond: PerSecond;
	readonly start = performance.now();
	/** First receipts per client index: receipts beyond the first are duplicates. */
	readonly deliveredBy: Uint32Array;

	sent = 0;
	acked = 0;
	delivered = 0;
	/** Receipts that came in a backlog (catch-up after hello) rather than live. */
	backlogDelivered = 0;
	firstSendAt = 0;
	lastDeliveryAt = 0;
	/** Sends the room answered with an error frame, by code. */
	readonly errors = new Map<string, number>();

	/**
	 * `shared`: histograms to add to instead of the recorder's own (a histogram is megabytes: a
	 * scenario of hundreds of rooms counts each room apart and their latencies by kind of room).
	 */
	constructor(
		capacity: number,
		clientSlots: number,
		maxSeconds: number,
		shared?: { latency: Histogram; ackLatency: Histogram }
	) {
		this.latency = shared?.latency ?? new Histogram();
		this.ackLatency = shared?.ackLatency ?? new Histogram();
		this.prefix = `b${(++runs).toString(36)}${Date.now().toString(36).slice(-4)}.`;
		this.capacity = capacity;
		this.sentAt = new Float64Array(capacity);
		this.ackSeq = new Float64Array(capacity);
		this.deliveredBy = new Uint32Array(clientSlots);
		this.perSecond = new PerSecond(this.start, maxSeconds);
	}

	/** Numbers a new message and notes its send time; null once the run's capacity is used up. */
	issue(now: number): number | null {
		if (this.sent >= this.capacity) return null;
		const n = this.sent++;
		this.sentAt[n] = now;
		if (n === 0) this.firstSendAt = now;
		return n;
	}

	clientId(n: number): string {
		return this.prefix + n;
	}

	/** The message number in a clientId of this run, or -1 for anything else. */
	indexOf(clientId: string): number {
		const prefix = this.prefix;
		if (clientId.length <= prefix.length || !clientId.startsWith(prefix)) return -1;
		let n = 0;
		for (let i = prefix.length; i < clientId.length; i++) {
			const digit = clientId.charCodeAt(i) - 48;
			if (digit < 0 || digit > 9) return -1;
			n = n * 10 + digit;
		}
		return n < this.sent ? n : -1;
	}

	onAck(n: number, seq: number, now: number): void {
		if (this.ackSeq[n] !== 0) return;
		this.ackSeq[n] = seq;
		this.acked++;
		this.ackLatency.add(now - this.sentAt[n]!);
	}

	/** A first receipt of message `n` at client `slot`. */
	onDelivery(n: number, slot: number, now: number, fromBacklog: boolean): void {
		this.delivered++;
		this.deliveredBy[slot]!++;
		this.lastDeliveryAt = now;
		this.perSecond.add(now);
		if (fromBacklog) this.backlogDelivered++;
		else this.latency.add(now - this.sentAt[n]!);
	}

	/** The room refused message `n` with an error frame: nobody is to receive it. */
	onRefused(n: number, code: string): void {
		if (this.ackSeq[n] !== 0) return;
		this.ackSeq[n] = -1;
		this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
	}

	get refused(): number {
		let count = 0;
		for (const n of this.errors.values()) count += n;
		return count;
	}

	/**
	 * What each client should have received: every message sent in this run with a seq above the
	 * one the client said hello with (an unacknowledged message counts for everyone: it is lost).
	 */
	expectedFor(baseSeqs: Iterable<{ slot: number; baseSeq: number }>): {
		expected: number;
		lost: number;
	} {
		const seqs = Array.from(this.ackSeq.subarray(0, this.sent))
			.filter((s) => s >= 0)
			.sort((a, b) => a - b);
		// Unacknowledged messages (0) sort first; each is expected everywhere.
		const firstAcked = seqs.findIndex((s) => s > 0);
		const missing = firstAcked === -1 ? seqs.length : firstAcked;
		let expected = 0;
		let lost = 0;
		for (const { slot, baseSeq } of baseSeqs) {
			// seqs[missing..] are acked and sorted: count those above baseSeq.
			let lo = missing;
			let hi = seqs.length;
			while (lo < hi) {
				const mid = (lo + hi) >> 1;
				if (seqs[mid]! > baseSeq) hi = mid;
				else lo = mid + 1;
			}
			const mine = missing + (seqs.length - lo);
			expected += mine;
			lost += Math.max(0, mine - this.deliveredBy[slot]!);
		}
		return { expected, lost };
	}

	deliveriesPerSec(): number {
		const span = this.lastDeliveryAt - this.firstSendAt;
		return span > 0 ? (this.delivered * 1000) / span : 0;
	}

	errorSummary(): Record<string, number> | undefined {
		return this.errors.size > 0 ? Object.fromEntries(this.errors) : undefined;
	}
}
