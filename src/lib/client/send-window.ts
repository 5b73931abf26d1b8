// The order of one device's messages is a promise: they take `seq`s in the order they were
// written, whatever the rate limit, reconnects or the outbox do. The room keeps its half by
// refusing, after it refuses one send over the rate limit, every later new send on that socket
// until the refused one comes again. This is the browser's half: messages go out in one fixed
// order, a few at a time, and after a refusal or a reconnect everything unacknowledged goes again
// in that same order, starting with the first. A send the room already stored is answered with
// its original seq, so going again never doubles a message.

import { SEND_RATE } from '$shared/protocol';

/**
 * How many sends may be on the wire unacknowledged. Within the room's burst, so that a window sent
 * at once after a quiet spell is taken whole.
 */
export const SEND_WINDOW = 10;
/** The wait after a rate-limit refusal that names none. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

export type WindowItem = { clientId: string; createdAt: number };

/**
 * Which of my unacknowledged messages may be transmitted now. No socket, timers or clock of its own:
 * the connection asks `next()` whenever something changed and transmits what it gets, and runs
 * one timer for the wait `refused` names.
 *
 * The queue's order is the order of first transmission and never changes; what is on the wire is
 * always a prefix of it, and so is what was ever transmitted. A message joining the window goes
 * after everything already transmitted, among the rest by `createdAt`.
 */
export class SendWindow<T extends WindowItem> {
	readonly #max: number;
	#queue: T[] = [];
	/** The first `#inFlight` of the queue are on the wire. */
	#inFlight = 0;
	/** The first `#transmitted` of the queue went out at least once: their order is fixed. */
	#transmitted = 0;
	/**
	 * How many may be on the wire now. After a refusal the room lets one through per token, so the
	 * window starts again from one and grows by one per ack, back to the most.
	 */
	#limit: number;
	/** When the longest wait asked by the room ends, while paused. */
	#pausedUntil: number | null = null;

	constructor(max: number = SEND_WINDOW) {
		if (!Number.isInteger(max) || max < 1 || max > SEND_RATE.burst) {
			throw new RangeError(`A send window holds 1 to ${SEND_RATE.burst} messages.`);
		}
		this.#max = max;
		this.#limit = max;
	}

	/** Messages waiting for an ack, in the order they go out. */
	get items(): readonly T[] {
		return this.#queue;
	}

	get inFlight(): number {
		return this.#inFlight;
	}

	get paused(): boolean {
		return this.#pausedUntil !== null;
	}

	has(clientId: string): boolean {
		return this.#indexOf(clientId) !== -1;
	}

	/** A message to send (a new one, one restored from the outbox, or one retried). */
	add(item: T): void {
		if (this.has(item.clientId)) return;
		let at = this.#queue.length;
		while (at > this.#transmitted && this.#queue[at - 1]!.createdAt > item.createdAt) at--;
		this.#queue.splice(at, 0, item);
	}

	/** Takes what may be transmitted now, in order, and counts it as on the wire. */
	next(): T[] {
		if (this.#pausedUntil !== null) return [];
		const end = Math.min(this.#queue.length, this.#limit);
		if (end <= this.#inFlight) return [];
		const out = this.#queue.slice(this.#inFlight, end);
		this.#inFlight = end;
		this.#transmitted = Math.max(this.#transmitted, end);
		return out;
	}

	/** The room stored it: it leaves the window and frees its slot. Answers whether it was here. */
	acked(clientId: string): boolean {
		if (!this.#remove(clientId)) return false;
		if (this.#limit < this.#max) this.#limit++;
		return true;
	}

	/** It leaves the window without an ack: refused for good (until retried), or discarded. */
	remove(clientId: string): boolean {
		return this.#remove(clientId);
	}

	/**
	 * The room refused a send over its rate limit: `clientId` names it, or nothing does (a frame
	 * the room could not tell apart, which may have been one of the sends on the wire). The window
	 * pauses; answers how long from `now` until it may go on (the longest wait asked while paused),
	 * or null when the refusal is not about the window.
	 */
	refused(
		clientId: string | undefined,
		retryAfterMs: number | undefined,
		now: number
	): number | null {
		const ours = clientId === undefined ? this.#inFlight > 0 || this.paused : this.has(clientId);
		if (!ours) return null;
		const wait = Math.max(0, retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
		this.#pausedUntil = Math.max(this.#pausedUntil ?? now, now + wait);
		// Whatever was on the wire behind the refused send is refused too: it all goes again.
		this.#inFlight = 0;
		this.#limit = 1;
		return this.#pausedUntil - now;
	}

	/** The wait is over: go on from the first unacknowledged message. */
	resume(): void {
		this.#pausedUntil = null;
	}

	/**
	 * The room has it, as seen without an ack (it came back in the timeline, sent by another tab
	 * or before a reconnect). One that never went out from here just leaves. One that did stays
	 * until the room answers it: the room may be holding this socket's later sends until that one
	 * comes again, and answers it with an ack. Answers whether it left.
	 */
	settled(clientId: string): boolean {
		const index = this.#indexOf(clientId);
		if (index === -1 || index < this.#transmitted) return false;
		return this.#remove(clientId);
	}

	/** A new socket: nothing is on it yet, and nothing was refused on it. */
	reset(): void {
		this.#pausedUntil = null;
		this.#inFlight = 0;
	}

	#indexOf(clientId: string): number {
		return this.#queue.findIndex((item) => item.clientId === clientId);
	}

	#remove(clientId: string): boolean {
		const index = this.#indexOf(clientId);
		if (index === -1) return false;
		this.#queue.splice(index, 1);
		if (index < this.#inFlight) this.#inFlight--;
		if (index < this.#transmitted) this.#transmitted--;
		return true;
	}
}
