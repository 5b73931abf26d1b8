// One push per room per burst, for a person with no tab open. A phone should buzz once for a
// conversation that bursts into five messages, not five times; and not stay silent until the burst
// is over either. So the first alert of a room goes out at once, the alerts for that room during
// the next PUSH_BURST_MS are merged (their counts added, the newest line kept) and go out as one
// push when the window ends, and the alert after that starts a new burst.
//
// State is in memory only: the hub of a person with no tab touches no storage. Losing it (the
// object evicted mid-burst) loses at most one trailing push; the pending timer keeps the object
// awake meanwhile.
import { roomNotification, type NotificationPayload, type RoomNews } from '../../../shared/notify';

/** How long after a room's first push its further alerts are merged into one. */
export const PUSH_BURST_MS = 4_000;

type Burst = { merged: RoomNews | null };

export class PushBursts {
	#rooms = new Map<string, Burst>();
	readonly #send: (payload: NotificationPayload) => Promise<unknown>;
	readonly #windowMs: number;

	/** `send` pushes one notification to the person's devices; its failures are its own to log. */
	constructor(send: (payload: NotificationPayload) => Promise<unknown>, windowMs = PUSH_BURST_MS) {
		this.#send = send;
		this.#windowMs = windowMs;
	}

	/** A room's alert: pushed now if it opens a burst, else merged into the burst's trailing push. */
	add(news: RoomNews): void {
		const burst = this.#rooms.get(news.roomId);
		if (burst) {
			burst.merged = burst.merged ? { ...news, count: burst.merged.count + news.count } : news;
			return;
		}
		this.#rooms.set(news.roomId, { merged: null });
		this.#dispatch(news);
		setTimeout(() => this.#close(news.roomId), this.#windowMs);
	}

	/** Rooms with a burst under way (for tests). */
	get open(): number {
		return this.#rooms.size;
	}

	#close(roomId: string): void {
		const burst = this.#rooms.get(roomId);
		this.#rooms.delete(roomId);
		if (burst?.merged) this.#dispatch(burst.merged);
	}

	#dispatch(news: RoomNews): void {
		this.#send(roomNotification(news)).catch((err: unknown) => {
			console.error('web push: a room notification failed', news.roomId, err);
		});
	}
}
