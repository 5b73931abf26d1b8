// The part of a room's timeline a tab holds: a contiguous run of messages in seq order, usually
// reaching the newest ("live"). After a jump to an old message it may not (`hasNewer`), and what
// the socket sends waits aside until paging forward meets it. No socket, fetch or Svelte here: the
// history is read through the loader the owner passes, and the owner mirrors the state on `onChange`.

import type { ChatMessage } from '$shared/protocol';
import type { HistoryPage, HistoryWindow } from './history';
import { contiguousTail } from './room-cache';

/** Messages and changes kept for parts of the timeline that are not loaded yet. */
export const KEEP_OUTSIDE_WINDOW = 1000;
/**
 * The most messages a window holds while its reader follows the newest: past it the oldest are
 * dropped (paging brings them back), so a tab left open in a busy room keeps a bounded DOM and heap.
 * It is cut down to `LIVE_KEEP`, so not at every message.
 */
export const LIVE_WINDOW = 300;
export const LIVE_KEEP = 250;
/** The most pages one catch-up reads over HTTP. */
const MAX_CATCH_UP_PAGES = 100;

/** One page of the history: before a seq, after one, or the newest when neither is given. */
export type PageQuery = { before: number } | { after: number } | Record<string, never>;

/** How the window reads the history. Both answer null when there is nothing to use (offline). */
export type TimelineLoader = {
	page(query: PageQuery): Promise<HistoryPage | null>;
	/** The window of messages around `seq`. */
	around(seq: number): Promise<HistoryWindow | null>;
};

export type TimelineHooks = {
	/**
	 * Something the owner mirrors changed (messages, ends, loading flags, the room's newest seq).
	 * `arrived`: messages joined at the newest end or the window was replaced, so my pending
	 * messages may be in it now.
	 */
	onChange?: (arrived: boolean) => void;
	/**
	 * A message newer than any told before, or a change that moves what the conversation's row
	 * shows. `shown` is the newest loaded message still there (not deleted), whose preview the row
	 * shows, as the room's flush does for D1; null when none is loaded.
	 */
	onNewest?: (message: ChatMessage, shown: ChatMessage | null) => void;
};

/** A socket's catch-up after `hello`: what followed `lastSeq`, and changes to older messages. */
export type Backlog = { messages: ChatMessage[]; updates?: ChatMessage[]; more: boolean };

export class TimelineWindow {
	#messages: readonly ChatMessage[];
	#hasOlder: boolean;
	#hasNewer: boolean;
	#loadingOlder = false;
	#loadingNewer = false;
	#roomLastSeq: number;
	/** Every change up to this room revision has reached this tab. */
	#lastRev: number;
	/** The newest message told to `onNewest`. */
	#newestSeq = 0;
	/** Socket messages beyond the window, waiting for paging to meet them. */
	#ahead = new Map<number, ChatMessage>();
	/** Changes to messages that are not loaded, applied when they are. */
	#laterUpdates = new Map<number, ChatMessage>();
	/** Forward paging is under way (`#paging`): there is only ever one. */
	#pagingForward = false;
	#paging: Promise<void> = Promise.resolve();
	#loader: TimelineLoader;
	#hooks: TimelineHooks;
	#keep: number;
	/** The reader is at the newest end (the owner says so): only then may the oldest go. */
	#following = true;

	constructor(
		history: HistoryWindow,
		rev: number,
		loader: TimelineLoader,
		hooks: TimelineHooks = {},
		keepOutside = KEEP_OUTSIDE_WINDOW
	) {
		this.#messages = history.messages;
		this.#hasOlder = history.hasOlder;
		this.#hasNewer = history.hasNewer;
		this.#roomLastSeq = history.messages.at(-1)?.seq ?? 0;
		this.#lastRev = rev;
		this.#loader = loader;
		this.#hooks = hooks;
		this.#keep = keepOutside;
	}

	get messages(): readonly ChatMessage[] {
		return this.#messages;
	}
	get hasOlder(): boolean {
		return this.#hasOlder;
	}
	/** The window does not reach the newest message. */
	get hasNewer(): boolean {
		return this.#hasNewer;
	}
	get loadingOlder(): boolean {
		return this.#loadingOlder;
	}
	get loadingNewer(): boolean {
		return this.#loadingNewer;
	}
	/** The newest seq the room is known to have. */
	get roomLastSeq(): number {
		return this.#roomLastSeq;
	}
	/** The seq everything up to which this tab has, in a live window: what `hello` resumes from. */
	get lastSeq(): number {
		return this.#messages.at(-1)?.seq ?? 0;
	}
	/** The room revision up to which every change has reached this tab. */
	get lastRev(): number {
		return this.#lastRev;
	}

	/** A message of the window, if it is loaded. */
	find(seq: number): ChatMessage | undefined {
		const index = this.#indexOf(seq);
		return index === -1 ? undefined : this.#messages[index];
	}

	has(seq: number): boolean {
		return this.#indexOf(seq) !== -1;
	}

	/** The tab starts following the room: a live window's newest message is told. */
	announceNewest(): void {
		if (!this.#hasNewer) this.#noteNewest(this.#messages);
	}

	/**
	 * Messages this browser kept from an earlier visit (`room-cache.ts`), every change up to `rev`
	 * applied: those newer than the page's are shown at once, and `hello` then resumes from them.
	 * The page may be older than they are (served from the service worker's cache, or stale). A
	 * run that does not meet the window replaces it. Answers whether anything was added.
	 */
	restore(cached: readonly ChatMessage[], rev: number): boolean {
		const run = contiguousTail(cached);
		const last = this.lastSeq;
		if (this.#hasNewer || (run.at(-1)?.seq ?? 0) <= last) return false;
		const meets = run[0]!.seq <= last + 1;
		const newer = run.filter((m) => m.seq > last).map((m) => this.#withLater(m));
		if (!meets) this.#hasOlder = run[0]!.seq > 1;
		this.#messages = meets ? [...this.#messages, ...newer] : newer;
		// Kept messages may have missed changes the page's revision covers: ask for them again.
		this.#lastRev = Math.min(this.#lastRev, rev);
		this.#roomLastSeq = Math.max(this.#roomLastSeq, this.lastSeq);
		this.#noteNewest(newer);
		this.#changed(true);
		return true;
	}

	/** The room's `welcome`: its newest seq and revision. */
	welcome(lastSeq: number, rev: number): void {
		this.#noteRev(rev);
		this.#roomLastSeq = Math.max(this.#roomLastSeq, lastSeq);
		this.#changed();
	}

	/**
	 * A message the socket sent as it was said. Answers the paging it started to fill a gap
	 * before it, if any (already settled otherwise).
	 */
	live(message: ChatMessage): Promise<void> {
		this.#noteRev(message.rev);
		return this.#receive([message]);
	}

	/** A change to a message: applied when it is loaded, kept for when it is otherwise. */
	update(message: ChatMessage): void {
		this.#noteRev(message.rev);
		this.#applyUpdate(message);
	}

	/**
	 * The socket's catch-up after `hello`. With `more`, the rest is paged over HTTP. Answers the
	 * paging, if any.
	 */
	catchUp(backlog: Backlog): Promise<void> {
		const paging = this.#receive(backlog.messages);
		for (const message of backlog.updates ?? []) this.#applyUpdate(message);
		return backlog.more ? this.#pageForward() : paging;
	}

	/**
	 * Whether the reader follows the newest messages. A reader who scrolled up keeps everything the
	 * window has (what they read must not move); back at the bottom, the window is bounded again.
	 */
	follow(following: boolean): void {
		this.#following = following;
		if (following && this.#messages.length > LIVE_WINDOW) this.#setMessages(this.#messages);
	}

	async loadOlder(): Promise<void> {
		if (this.#loadingOlder || !this.#hasOlder) return;
		const first = this.#messages[0]?.seq;
		if (first === undefined) return;
		this.#loadingOlder = true;
		this.#changed();
		try {
			const page = await this.#loader.page({ before: first });
			if (!page) return;
			const older = page.messages.filter((m) => m.seq < first).map((m) => this.#withLater(m));
			this.#messages = [...older, ...this.#messages];
			this.#hasOlder = page.hasMore;
		} finally {
			this.#loadingOlder = false;
			this.#changed();
		}
	}

	async loadNewer(): Promise<void> {
		if (this.#loadingNewer || !this.#hasNewer) return;
		this.#loadingNewer = true;
		this.#changed();
		try {
			const page = await this.#loader.page({ after: this.lastSeq });
			if (!page) return;
			this.#appendPage(page.messages);
			if (!page.hasMore) this.#goLive();
		} finally {
			this.#loadingNewer = false;
			this.#changed();
		}
	}

	/**
	 * Makes sure `seq` is in the window, loading the history around it if needed. False when it
	 * could not be: the room has no such message, or the history could not be read.
	 */
	async jumpTo(seq: number): Promise<boolean> {
		if (this.has(seq)) return true;
		const window = await this.#loader.around(seq);
		if (!window) return false;
		this.#replace(window);
		return this.has(seq);
	}

	async jumpToLatest(): Promise<void> {
		const page = await this.#loader.page({});
		if (!page) return;
		this.#replace({ messages: page.messages, hasOlder: page.hasMore, hasNewer: false });
	}

	#changed(arrived = false): void {
		this.#hooks.onChange?.(arrived);
	}

	#indexOf(seq: number): number {
		const first = this.#messages[0]?.seq;
		if (first === undefined) return -1;
		const index = seq - first;
		return index >= 0 && index < this.#messages.length ? index : -1;
	}

	/** New messages from the socket: appended when they continue the window, else set aside. */
	#receive(incoming: readonly ChatMessage[]): Promise<void> {
		let appended: ChatMessage[] | null = null;
		for (const message of incoming) {
			this.#roomLastSeq = Math.max(this.#roomLastSeq, message.seq);
			const last = (appended ?? this.#messages).at(-1)?.seq ?? 0;
			if (message.seq <= last) {
				this.#replaceIfNewer(message);
			} else if (this.#hasNewer || message.seq !== last + 1) {
				this.#keepAside(this.#ahead, message);
			} else {
				appended ??= [...this.#messages];
				appended.push(this.#withLater(message));
			}
		}
		if (appended) this.#setMessages(appended);
		else this.#changed();
		this.#noteNewest(incoming);
		if (!this.#hasNewer && this.#ahead.size > 0) {
			this.#drainAhead();
			// A gap between the window and what waits aside: fetch what is between.
			if ([...this.#ahead.keys()].some((seq) => seq > this.lastSeq + 1)) return this.#pageForward();
		}
		return Promise.resolve();
	}

	#appendPage(page: readonly ChatMessage[]): void {
		const last = this.lastSeq;
		const newer = page.filter((m) => m.seq > last).map((m) => this.#withLater(m));
		if (newer.length > 0) this.#setMessages([...this.#messages, ...newer]);
		this.#noteNewest(newer);
	}

	#noteNewest(messages: readonly ChatMessage[]): void {
		const newest = messages.reduce<ChatMessage | null>(
			(a, b) => (a === null || b.seq > a.seq ? b : a),
			null
		);
		if (!newest || newest.seq <= this.#newestSeq) return;
		this.#newestSeq = newest.seq;
		this.#tellNewest(newest);
	}

	#tellNewest(newest: ChatMessage): void {
		this.#hooks.onNewest?.(newest, this.#shown(newest));
	}

	/**
	 * The newest message up to `newest` that is not deleted: `newest` itself, or the newest such
	 * one this tab holds (in the window or set aside).
	 */
	#shown(newest: ChatMessage | undefined): ChatMessage | null {
		if (!newest) return null;
		if (newest.deletedAt === undefined) return newest;
		const older = (m: ChatMessage) => m.seq < newest.seq && m.deletedAt === undefined;
		const aside = [...this.#ahead.values()].filter(older).sort((a, b) => b.seq - a.seq)[0];
		return aside ?? this.#messages.findLast(older) ?? null;
	}

	/** Joins the window to the live stream: what the socket set aside follows on. */
	#goLive(): void {
		this.#hasNewer = false;
		this.#drainAhead();
	}

	#drainAhead(): void {
		const next = [...this.#messages];
		for (const seq of [...this.#ahead.keys()].sort((a, b) => a - b)) {
			const last = next.at(-1)?.seq ?? 0;
			if (seq <= last) this.#ahead.delete(seq);
			else if (seq === last + 1) {
				next.push(this.#withLater(this.#ahead.get(seq)!));
				this.#ahead.delete(seq);
			} else break;
		}
		if (next.length !== this.#messages.length) this.#setMessages(next);
	}

	/** More was missed than the socket sent, or a gap opened: fetch what is between over HTTP. */
	#pageForward(): Promise<void> {
		if (this.#pagingForward) return this.#paging;
		this.#pagingForward = true;
		this.#paging = this.#readForward();
		return this.#paging;
	}

	async #readForward(): Promise<void> {
		try {
			for (let round = 0; round < MAX_CATCH_UP_PAGES; round++) {
				const page = await this.#loader.page({ after: this.lastSeq });
				if (!page) return;
				this.#appendPage(page.messages);
				if (!page.hasMore || page.messages.length === 0) break;
			}
			this.#drainAhead();
		} finally {
			this.#pagingForward = false;
		}
	}

	#replace(window: HistoryWindow): void {
		this.#messages = window.messages.map((m) => this.#withLater(m));
		this.#hasOlder = window.hasOlder;
		this.#hasNewer = window.hasNewer;
		if (!window.hasNewer) {
			this.#noteNewest(this.#messages);
			this.#drainAhead();
		}
		this.#changed(true);
	}

	#applyUpdate(message: ChatMessage): void {
		if (this.has(message.seq)) return this.#replaceIfNewer(message);
		if (this.#ahead.has(message.seq)) this.#ahead.set(message.seq, message);
		else this.#keepAside(this.#laterUpdates, message);
	}

	#replaceIfNewer(message: ChatMessage): void {
		const index = this.#indexOf(message.seq);
		if (index === -1) return;
		const current = this.#messages[index]!;
		// Pages read from D1 carry no revision; whatever came from the room is at least as new.
		if ((message.rev ?? -1) <= (current.rev ?? -1)) return;
		const shownSeq = this.#shown(this.#newestMessage())?.seq ?? 0;
		const next = [...this.#messages];
		next[index] = message;
		this.#messages = next;
		this.#changed();
		// The conversation list shows the newest message still there: an edit or deletion of it, or
		// of anything newer, changes the row.
		if (message.seq >= shownSeq && message.seq <= this.#newestSeq) {
			const newest = this.#newestMessage();
			if (newest) this.#tellNewest(newest);
		}
	}

	/** The newest message told, as this tab holds it now (in the window or set aside). */
	#newestMessage(): ChatMessage | undefined {
		return this.find(this.#newestSeq) ?? this.#ahead.get(this.#newestSeq);
	}

	/** A page's copy of a message, or a newer change to it that arrived before the page did. */
	#withLater(message: ChatMessage): ChatMessage {
		const later = this.#laterUpdates.get(message.seq);
		if (!later) return message;
		this.#laterUpdates.delete(message.seq);
		return (later.rev ?? -1) > (message.rev ?? -1) ? later : message;
	}

	#keepAside(store: Map<number, ChatMessage>, message: ChatMessage): void {
		store.set(message.seq, message);
		if (store.size > this.#keep) store.delete(store.keys().next().value!);
	}

	/**
	 * A live window its reader follows drops its oldest messages past its bound. Changes that come
	 * for them later wait in `#laterUpdates`, and the history's pages (which read the room's
	 * unflushed messages too) bring them back as they are now.
	 */
	#setMessages(next: readonly ChatMessage[]): void {
		if (this.#following && !this.#hasNewer && next.length > LIVE_WINDOW) {
			this.#hasOlder = true;
			next = next.slice(-LIVE_KEEP);
		}
		this.#messages = next;
		this.#changed(true);
	}

	#noteRev(rev: number | undefined): void {
		if (rev !== undefined && rev > this.#lastRev) this.#lastRev = rev;
	}
}
