// What every client of one room shares: the counters the figures are made from, and one parse of
// each broadcast payload for all of them.
import type { Recorder } from './recorder.ts';

export type Json = { [key: string]: unknown };

export type Frame = Json & { type: string };

const CACHE_SLOTS = 16;

/**
 * A broadcast reaches every socket with the same bytes, so a payload is parsed once and its frames
 * shared by all receivers (read-only). Acks and welcomes miss the cache and are parsed as usual.
 */
class PayloadCache {
	#payloads: (Buffer | null)[] = new Array<Buffer | null>(CACHE_SLOTS).fill(null);
	#frames: Frame[][] = new Array<Frame[]>(CACHE_SLOTS).fill([]);
	#next = 0;
	hits = 0;
	misses = 0;

	parse(data: Buffer): Frame[] | null {
		for (let i = 0; i < CACHE_SLOTS; i++) {
			const cached = this.#payloads[i];
			if (cached && cached.length === data.length && cached.equals(data)) {
				this.hits++;
				return this.#frames[i]!;
			}
		}
		this.misses++;
		let parsed: unknown;
		try {
			parsed = JSON.parse(data.toString('utf8'));
		} catch {
			return null;
		}
		const list = Array.isArray(parsed) ? parsed : [parsed];
		for (const frame of list) {
			if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') {
				return null;
			}
		}
		const frames = list as Frame[];
		const slot = this.#next;
		this.#next = (slot + 1) % CACHE_SLOTS;
		this.#payloads[slot] = Buffer.from(data);
		this.#frames[slot] = frames;
		return frames;
	}
}

/** Counters shared by every client of one room. */
export class Hub {
	readonly base: string;
	readonly roomId: string;
	readonly cache = new PayloadCache();
	recorder: Recorder | null = null;
	/** The highest seq anyone has seen (acks, messages, welcomes). */
	roomSeq = 0;
	malformed = 0;
	/** A seq that reached the same client twice (the real client drops it by seq). */
	duplicates = 0;
	/** …of which the first copy came live before the welcome and the second in the backlog. */
	duplicatesBeforeWelcome = 0;
	/** Messages that arrived ahead of an earlier seq (filled in later, or a gap). */
	outOfOrder = 0;
	/** Backlogs cut at the room's limit (`more: true`): the rest must be paged over HTTP. */
	truncatedBacklogs = 0;
	pings = 0;
	pongs = 0;
	readonly errors = new Map<string, number>();
	readonly upgradeFailures = new Map<string, number>();

	constructor(base: string, roomId: string) {
		this.base = base;
		this.roomId = roomId;
	}

	noteError(code: string): void {
		this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
	}

	noteUpgradeFailure(reason: string): void {
		this.upgradeFailures.set(reason, (this.upgradeFailures.get(reason) ?? 0) + 1);
	}

	resetCounters(): void {
		this.malformed = 0;
		this.duplicates = 0;
		this.duplicatesBeforeWelcome = 0;
		this.outOfOrder = 0;
		this.truncatedBacklogs = 0;
		this.pings = 0;
		this.pongs = 0;
		this.errors.clear();
		this.upgradeFailures.clear();
	}
}
