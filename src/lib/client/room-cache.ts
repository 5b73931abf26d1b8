// A room's newest messages kept in the person's IndexedDB (`local-store.ts`) between visits: read
// when the room opens, so that it shows them at once (with no network too) while its socket
// catches up behind, and written as the timeline changes. No socket or Svelte here.

import type { ChatMessage } from '$shared/protocol';
import type { CachedRoom, LocalDatabase } from './local-store';

/** The newest messages kept of each room. */
export const KEEP_MESSAGES = 100;
/** Changes are written this long after the last of a run of them: one write per burst. */
const SAVE_DELAY_MS = 1000;

/** What is written of the timeline (a `TimelineWindow`). */
export type TimelineSnapshot = {
	readonly messages: readonly ChatMessage[];
	readonly hasNewer: boolean;
	readonly lastRev: number;
};

type Store = { db: LocalDatabase; module: typeof import('./local-store') };

export class RoomCache {
	#roomId: string;
	#userId: string;
	#store: Promise<Store | null> | null = null;
	#opened: Promise<CachedRoom | null> | null = null;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#latest: TimelineSnapshot | null = null;
	/** Access to the room was lost: nothing more is written. */
	#forgotten = false;

	constructor(roomId: string, userId: string) {
		this.#roomId = roomId;
		this.#userId = userId;
	}

	/**
	 * Loads IndexedDB (and `idb`), notes the room as opened and answers what was kept of it from
	 * an earlier visit: null when nothing was, or it could not be read.
	 */
	open(): Promise<CachedRoom | null> {
		this.#opened ??= this.#open();
		return this.#opened;
	}

	async #open(): Promise<CachedRoom | null> {
		this.#store ??= import('./local-store').then(
			async (module) => {
				const db = await module.openLocalStore(this.#userId);
				return db ? { db, module } : null;
			},
			(err: unknown) => {
				console.warn('room cache: could not load', err);
				return null;
			}
		);
		const store = await this.#store;
		if (!store) return null;
		try {
			return await store.module.openRoom(store.db, this.#roomId);
		} catch (err) {
			console.warn('room cache: could not read the messages kept', err);
			return null;
		}
	}

	/** The timeline changed: its newest messages are written once it settles. */
	changed(timeline: TimelineSnapshot): void {
		if (this.#forgotten) return;
		this.#latest = timeline;
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => void this.flush(), SAVE_DELAY_MS);
	}

	/** Writes what waits for the pause now (the room is closing). */
	async flush(): Promise<void> {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		// Only after `open`: what it read is merged into the timeline first, not overwritten.
		if (!this.#opened) return;
		const timeline = this.#latest;
		this.#latest = null;
		await this.#opened;
		const store = await this.#store;
		if (!timeline || !store || this.#forgotten) return;
		const kept = messagesToKeep(timeline.messages, !timeline.hasNewer);
		if (!kept) return;
		try {
			await store.module.saveRoom(store.db, this.#roomId, kept, timeline.lastRev);
		} catch (err) {
			console.warn('room cache: could not keep the messages', err);
		}
	}

	/** Access to the room was lost (removed, or the room deleted): what was kept of it goes. */
	forget(): void {
		this.#forgotten = true;
		clearTimeout(this.#timer);
		void import('./local-store')
			.then((m) => m.forgetRoom(this.#userId, this.#roomId))
			.catch((err: unknown) => console.warn('room cache: could not forget the room', err));
	}
}

/**
 * What to keep of a room's timeline: its newest `limit` messages, when the window reaches the
 * newest message (`live`) and they follow one another. A window moved back to an older message
 * (a jump) is not the room's recent history, and keeps what was kept before.
 */
export function messagesToKeep(
	messages: readonly ChatMessage[],
	live: boolean,
	limit = KEEP_MESSAGES
): ChatMessage[] | null {
	if (!live || messages.length === 0) return null;
	return contiguousTail(messages.slice(-limit));
}

/** The newest run of messages without a gap in `seq`, oldest first. */
export function contiguousTail(messages: readonly ChatMessage[]): ChatMessage[] {
	const sorted = [...messages].sort((a, b) => a.seq - b.seq);
	let start = sorted.length - 1;
	while (start > 0 && sorted[start - 1]!.seq === sorted[start]!.seq - 1) start--;
	return sorted.slice(Math.max(start, 0));
}
