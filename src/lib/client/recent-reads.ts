// How far this browser has read its rooms lately, kept across page loads: the sidebar's unread
// counts until D1 has the read positions too.
//
// Why here, and not on the server: the room copies read positions to D1 in its flush, a few seconds
// after the read (READ_FLUSH_DELAY_MS), because a read is the most frequent frame a room gets (in a
// room of a thousand, each message brings up to a thousand of them) and must not cost a D1 write or
// a call to the reader's hub each. A full page load within those seconds reads D1's older position.
// The browser that read is the one that loads that page, and it knows what it told the room: so it
// remembers it, and the rows take the further of the two. Nothing on the room's path changes; other
// devices see the read when D1 has it, as before.
import type { ConversationSummary } from '$lib/conversations';

/** Long enough for any flush to land, retries included (they back off up to 30 seconds). */
export const RECENT_READ_TTL_MS = 5 * 60_000;
/** Rooms remembered at most; the oldest reads go first. */
const MAX_ROOMS = 200;

/** The part of `Storage` this uses (localStorage in the browser, a fake in tests). */
export type ReadStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** Room id → [read seq, when it was told to the room]. */
type Reads = Record<string, [number, number]>;

export class RecentReads {
	#storage: ReadStorage;
	#key: string;

	/** Per person: a browser shared by two accounts must not mix their reads. */
	constructor(storage: ReadStorage, userId: string) {
		this.#storage = storage;
		this.#key = `parley:reads:${userId}`;
	}

	/** The room was told that I have read up to `seq`. */
	note(roomId: string, seq: number, now = Date.now()): void {
		const reads = this.#load(now);
		const known = reads[roomId]?.[0] ?? 0;
		if (seq <= known) return;
		reads[roomId] = [seq, now];
		const kept = Object.entries(reads)
			.sort((a, b) => b[1][1] - a[1][1])
			.slice(0, MAX_ROOMS);
		this.#save(Object.fromEntries(kept));
	}

	/** How far I read the room lately, if I did. */
	get(roomId: string, now = Date.now()): number | null {
		return this.#load(now)[roomId]?.[0] ?? null;
	}

	/**
	 * The row's unread count, given what I read lately: never more than the messages after it. The
	 * row's `unread` already counts from D1's read position; a newer one here can only lower it.
	 */
	unread(row: ConversationSummary, now = Date.now()): number {
		const read = this.get(row.id, now);
		if (read === null) return row.unread;
		return Math.min(row.unread, Math.max(0, row.lastMessageSeq - read));
	}

	#load(now: number): Reads {
		let parsed: unknown;
		try {
			parsed = JSON.parse(this.#storage.getItem(this.#key) ?? '{}');
		} catch {
			return {};
		}
		const reads: Reads = {};
		if (!parsed || typeof parsed !== 'object') return reads;
		for (const [roomId, entry] of Object.entries(parsed)) {
			if (!Array.isArray(entry)) continue;
			const [seq, at] = entry as unknown[];
			if (typeof seq !== 'number' || typeof at !== 'number') continue;
			if (now - at > RECENT_READ_TTL_MS || at > now + RECENT_READ_TTL_MS) continue;
			reads[roomId] = [seq, at];
		}
		return reads;
	}

	#save(reads: Reads): void {
		try {
			this.#storage.setItem(this.#key, JSON.stringify(reads));
		} catch {
			// Storage full or refused: the rows wait for D1, as they would without this.
		}
	}
}
