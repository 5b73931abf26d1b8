// Fixed-size latency histogram and small figure helpers. A histogram rather than a list of samples:
// a saturated room produces millions of receipts, and the load client must not spend its CPU on
// growing arrays and sorting them.

const RESOLUTION_MS = 0.05;
const MAX_MS = 60_000;
const BUCKETS = Math.ceil(MAX_MS / RESOLUTION_MS) + 1;

export class Histogram {
	#counts = new Uint32Array(BUCKETS);
	count = 0;
	max = 0;

	add(ms: number): void {
		const value = ms < 0 ? 0 : ms;
		const bucket = Math.min(BUCKETS - 1, Math.floor(value / RESOLUTION_MS));
		this.#counts[bucket]!++;
		this.count++;
		if (value > this.max) this.max = value;
	}

	/** The value below which `p` (0..1) of the samples fall, to the bucket's upper edge; null if empty. */
	quantile(p: number): number | null {
		if (this.count === 0) return null;
		const rank = Math.max(1, Math.ceil(p * this.count));
		let seen = 0;
		for (let i = 0; i < BUCKETS; i++) {
			seen += this.#counts[i]!;
			if (seen >= rank) return Math.min(this.max, (i + 1) * RESOLUTION_MS);
		}
		return this.max;
	}
}

export function round(value: number | null, digits = 1): number | null {
	if (value === null || !Number.isFinite(value)) return null;
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

/** Counts events per whole second since a start time, for peak rates. */
export class PerSecond {
	#counts: Uint32Array;
	#start: number;

	constructor(start: number, maxSeconds: number) {
		this.#start = start;
		this.#counts = new Uint32Array(Math.max(1, Math.ceil(maxSeconds)) + 1);
	}

	add(now: number, n = 1): void {
		const second = Math.floor((now - this.#start) / 1000);
		if (second < 0) return;
		this.#counts[Math.min(this.#counts.length - 1, second)]! += n;
	}

	/** The busiest complete second in [fromMs, toMs) after the start. */
	peak(fromMs = 0, toMs = Infinity): number {
		let best = 0;
		const first = Math.max(0, Math.floor(fromMs / 1000));
		const last = Math.min(this.#counts.length - 1, Math.floor(toMs / 1000));
		for (let i = first; i < last; i++) best = Math.max(best, this.#counts[i]!);
		return best;
	}
}
