import { hubStub } from '../../../shared/objects';
import type { ChatMessage } from '../../../shared/protocol';
import type { HubEvent, RoomSignalReason } from '../../../shared/protocol/hub';
import { levelAlerts } from '../../../shared/notify';
import { plainPreview } from '../../../shared/preview';
import { hasBlocked, type RoomAudience } from './room-audience';

/**
 * A member's hub hears from this room at most once per window. Mentions and direct messages go at
 * once; a group or public room becoming unread waits for the window to end, so a member who opens the
 * room meanwhile is never told, and whatever follows within the window is merged into that signal.
 */
export const SIGNAL_WINDOW_MS = 1000;
/**
 * How waiting signals leave once their window has passed: in chunks, each one D1 lookup of which
 * of them have a tab open or a device to push to, then a call to each of those hubs, awaited before
 * the next chunk is taken, with a pause between chunks in which the room serves its sockets (and
 * whoever opens the room meanwhile drops out of the queue). A sweep aims for about
 * `CHUNKS_PER_SWEEP` chunks of at least `SIGNAL_CHUNK` and at most `MAX_SIGNAL_CHUNK` signals, and
 * shares `SIGNAL_SPREAD_MS` of pauses among them (none shorter than `MIN_CHUNK_GAP_MS`, none longer
 * than `CHUNK_GAP_MS`). So a room of 500 members is told in four rounds with 150 ms of pauses,
 * not ten rounds with 900 ms (fixed chunks of 50, 100 ms apart), while a room of thousands still
 * never has more than `MAX_SIGNAL_CHUNK` hub calls, nor more than one D1 lookup, under way.
 */
export const SIGNAL_CHUNK = 50;
export const MAX_SIGNAL_CHUNK = 250;
export const CHUNKS_PER_SWEEP = 4;
export const SIGNAL_SPREAD_MS = 150;
export const CHUNK_GAP_MS = 100;
export const MIN_CHUNK_GAP_MS = 10;

/** The chunk size and the pause between chunks for a sweep that finds `waiting` signals due. */
export function signalPacing(waiting: number): { chunk: number; gapMs: number } {
	const chunk = Math.min(
		MAX_SIGNAL_CHUNK,
		Math.max(SIGNAL_CHUNK, Math.ceil(waiting / CHUNKS_PER_SWEEP))
	);
	const chunks = Math.ceil(waiting / chunk);
	if (chunks <= 1) return { chunk, gapMs: 0 };
	const share = Math.floor(SIGNAL_SPREAD_MS / (chunks - 1));
	return { chunk, gapMs: Math.min(CHUNK_GAP_MS, Math.max(MIN_CHUNK_GAP_MS, share)) };
}
/** How long the marks of members who opened the room gather before one statement clears them. */
const CLEAR_DELAY_MS = 250;

/** When signals merge, the one that says most about why wins. */
const REASON_RANK: Record<RoomSignalReason, number> = {
	unread: 0,
	direct: 1,
	reply: 2,
	mention: 3
};

type Signal = Extract<HubEvent, { type: 'room' }>;
type Pending = { signal: Signal; due: number };

/**
 * Tells members' user hubs that a room has news for them, without one call per member per message
 * (architecture: scale notes). A member's hub hears about a room when the member goes from "read up
 * to date" to "unread", when they are mentioned, and for direct messages; members with the room
 * open in a tab they are looking at are up to date and hear nothing (a hidden or idle tab is not
 * looking: the room passes who is). A burst costs each member at most one call now and
 * one merged call at the end of the window, whatever its length.
 *
 * The merged calls of a window go only to hubs that D1 marks online (`users.hub_online`) or whose
 * person has a device to push to (`push_subscriptions`) and may be alerted: any other hub would
 * drop the signal, and in a large room nearly every member is such. Those calls were most of the
 * room's work in a join storm (each wakes an object). A hub with no tab open turns an alerting
 * signal into Web Push (`user-hub.ts`).
 *
 * Each signal says whether it may alert (`alert`): the member's level for the room lets its reason
 * through (`levelAlerts`) and the member has not blocked the sender. A signal merged from several
 * messages carries their `count` and the strongest reason among them.
 *
 * The "already told" marks live in memory, read once per object lifetime, so a message never reads
 * storage per member, and in the room's own SQLite, so they survive hibernation: written when the
 * hub is actually called, one statement per batch. Opening the room clears the member's mark.
 */
export class UnreadSignals {
	#ctx: DurableObjectState;
	#env: Env;
	#isConnected: (userId: string) => boolean;
	#audience: RoomAudience;
	/** Members told, or about to be told, that the room has news: nobody tells them twice. */
	#told: Set<string>;
	/** The members of `#told` whose mark is in storage; the others have nothing to delete. */
	#stored: Set<string>;
	/** When each member's hub was last called; the next call waits for the window to pass. */
	#lastSent = new Map<string, number>();
	#pending = new Map<string, Pending>();
	/** Members whose stored mark is to be deleted with the next batch. */
	#clearing = new Set<string>();
	#clearTimer: ReturnType<typeof setTimeout> | undefined;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#timerDue = 0;

	constructor(
		ctx: DurableObjectState,
		env: Env,
		audience: RoomAudience,
		isConnected: (userId: string) => boolean
	) {
		this.#ctx = ctx;
		this.#env = env;
		this.#audience = audience;
		this.#isConnected = isConnected;
		// Its own table, created here, so it stays out of the room's versioned migrations.
		ctx.storage.sql.exec(
			'CREATE TABLE IF NOT EXISTS unread_signals (user_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)'
		);
		this.#stored = new Set(
			ctx.storage.sql
				.exec<{ user_id: string }>('SELECT user_id FROM unread_signals')
				.toArray()
				.map((row) => row.user_id)
		);
		this.#told = new Set(this.#stored);
	}

	/**
	 * The member opened the room, or looks at it again: they are up to date, so their next unread
	 * message is news.
	 */
	onConnect(userId: string): void {
		this.#pending.delete(userId);
		this.#told.delete(userId);
		if (!this.#stored.delete(userId)) return;
		// A storm of joins clears its marks in a few statements, not one per join. Meanwhile memory
		// is right, and the pending timer keeps the object awake until storage is too.
		this.#clearing.add(userId);
		this.#clearTimer ??= setTimeout(() => {
			this.#clearTimer = undefined;
			this.#clearMarks();
		}, CLEAR_DELAY_MS);
	}

	/** Someone left, was removed or banned: read the member list again before telling anyone. */
	forget(userId: string): void {
		this.#audience.forget();
		this.#lastSent.delete(userId);
		this.onConnect(userId);
	}

	/** Drops whatever is waiting: nothing more leaves this instance. */
	stop(): void {
		this.#pending.clear();
		this.#clearing.clear();
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		if (this.#clearTimer !== undefined) clearTimeout(this.#clearTimer);
		this.#timer = undefined;
		this.#clearTimer = undefined;
	}

	/** `repliedTo`: the author of the message this one replies to, if any. */
	onMessage(roomId: string, message: ChatMessage, repliedTo: string | null = null): void {
		this.#ctx.waitUntil(
			this.#signal(roomId, message, repliedTo).catch((err: unknown) => {
				// A lost signal costs a stale badge until the next page load, never a message.
				console.warn('unread signal failed', err);
			})
		);
	}

	async #signal(roomId: string, message: ChatMessage, repliedTo: string | null): Promise<void> {
		const audience = await this.#audience.load(roomId);
		// Whom the room found mentioned, by the one rule and cap the message itself shows: the
		// body is not read again here, or an address like a@carol.x would page carol, and a
		// message naming hundreds of members would call hundreds of hubs at once.
		const mentioned = new Set(message.mentions);
		const now = Date.now();
		const calls: Promise<unknown>[] = [];
		const marks: [string, number][] = [];
		// Made once per message, and only when someone is told: most messages tell nobody.
		let news: Pick<Signal, 'seq' | 'at' | 'senderName' | 'preview' | 'roomName'> | undefined;
		for (const [userId, level] of audience.levels) {
			if (userId === message.senderId || this.#isConnected(userId)) continue;
			const told = this.#told.has(userId);
			const reason: RoomSignalReason | null =
				audience.kind === 'direct'
					? 'direct'
					: mentioned.has(userId)
						? 'mention'
						: repliedTo === userId
							? 'reply'
							: told
								? null
								: 'unread';
			const queued = this.#pending.get(userId);
			if (!reason && !queued) continue;
			news ??= {
				seq: message.seq,
				at: message.createdAt,
				senderName: message.senderName,
				preview: plainPreview(message),
				roomName: audience.kind === 'direct' ? '' : audience.name
			};
			if (!reason) {
				// Already told, with the signal still waiting: it leaves with the newest message.
				if (queued) queued.signal = { ...queued.signal, ...news, count: queued.signal.count + 1 };
				continue;
			}
			const alert = levelAlerts(level, reason) && !hasBlocked(audience, userId, message.senderId);
			const signal: Signal = { type: 'room', roomId, reason, ...news, count: 1, alert };
			if (queued) {
				// The newest message wins, but a mention (or an alert) within the window is not forgotten.
				const { reason: before } = queued.signal;
				if (REASON_RANK[before] > REASON_RANK[reason]) signal.reason = before;
				signal.alert ||= queued.signal.alert;
				signal.count += queued.signal.count;
			}
			this.#told.add(userId);
			const last = this.#lastSent.get(userId);
			const open = last === undefined ? now : last + SIGNAL_WINDOW_MS;
			if (reason !== 'unread' && open <= now) {
				this.#pending.delete(userId);
				this.#lastSent.set(userId, now);
				if (!this.#stored.has(userId)) marks.push([userId, message.seq]);
				calls.push(this.#notify(userId, signal));
				continue;
			}
			const due =
				queued?.due ?? (reason === 'unread' ? Math.max(open, now + SIGNAL_WINDOW_MS) : open);
			this.#pending.set(userId, { signal, due });
			this.#wakeAt(due);
		}
		this.#markTold(marks);
		await Promise.allSettled(calls);
	}

	#notify(userId: string, signal: Signal): Promise<unknown> {
		const hub = hubStub(this.#env.HUBS, userId);
		return hub.notify(userId, signal);
	}

	#clearMarks(): void {
		if (this.#clearing.size === 0) return;
		this.#ctx.storage.sql.exec(
			'DELETE FROM unread_signals WHERE user_id IN (SELECT value FROM json_each(?))',
			JSON.stringify([...this.#clearing])
		);
		this.#clearing.clear();
	}

	/** Stores the "told" marks of a batch of members in one statement. */
	#markTold(marks: [string, number][]): void {
		if (marks.length === 0) return;
		for (const [userId] of marks) {
			this.#stored.add(userId);
			// Told again before the old mark was cleared: the new mark must stay.
			this.#clearing.delete(userId);
		}
		this.#ctx.storage.sql.exec(
			`INSERT OR REPLACE INTO unread_signals (user_id, seq)
			 SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?)`,
			JSON.stringify(marks)
		);
	}

	/**
	 * Sends the merged signals whose window has passed, then waits for the next one. The pending
	 * timer keeps the object awake, so merged signals leave on time even if every socket is quiet.
	 */
	#wakeAt(due: number): void {
		if (this.#timer !== undefined) {
			if (this.#timerDue <= due) return;
			clearTimeout(this.#timer);
		}
		this.#timerDue = due;
		this.#timer = setTimeout(
			() => {
				this.#timer = undefined;
				this.#sendDue().catch((err: unknown) => console.warn('unread signal failed', err));
			},
			Math.max(0, due - Date.now())
		);
	}

	/**
	 * A chunk at a time, each awaited and followed by a pause before the next is taken: sockets are
	 * served in between, and whoever opens the room meanwhile drops out before their hub is called.
	 */
	async #sendDue(): Promise<void> {
		// Paced by what is due when the sweep starts: signals that fall due during it join the
		// sweep's chunks, they do not shrink them.
		let pacing: { chunk: number; gapMs: number } | undefined;
		for (;;) {
			const now = Date.now();
			pacing ??= signalPacing(this.#dueCount(now));
			const chunk: [string, Signal][] = [];
			let next = Infinity;
			for (const [userId, { signal, due }] of this.#pending) {
				if (due > now) {
					next = Math.min(next, due);
					continue;
				}
				if (chunk.length >= pacing.chunk) continue;
				this.#pending.delete(userId);
				if (this.#isConnected(userId)) continue;
				chunk.push([userId, signal]);
			}
			if (chunk.length === 0) {
				if (next !== Infinity) this.#wakeAt(next);
				return;
			}
			const marks: [string, number][] = [];
			for (const [userId, signal] of chunk) {
				this.#lastSent.set(userId, now);
				if (!this.#stored.has(userId)) marks.push([userId, signal.seq]);
			}
			this.#markTold(marks);
			// Only hubs with a tab open, or with a device to push an alert to, have anyone to tell;
			// the others would drop the signal. If D1 cannot say, every hub is called, as a signal
			// lost costs a stale badge or a missed alert.
			const reach = await reachableHubs(
				this.#env.DB,
				chunk.map(([userId]) => userId)
			).catch((err: unknown) => {
				console.warn('hub presence lookup failed', err);
				return null;
			});
			await Promise.allSettled(
				chunk
					.filter(([userId, signal]) => {
						const found = reach?.get(userId);
						return !reach || (found !== undefined && (found.online || signal.alert));
					})
					.map(([userId, signal]) => this.#notify(userId, signal))
			);
			if (chunk.length === pacing.chunk && pacing.gapMs > 0) {
				await new Promise((r) => setTimeout(r, pacing!.gapMs));
			}
		}
	}

	#dueCount(now: number): number {
		let count = 0;
		for (const { due } of this.#pending.values()) if (due <= now) count++;
		return count;
	}
}

/**
 * Which of these users have a hub worth calling, in one statement: those with a tab open
 * (`users.hub_online`), and those with a device to push to (their hub pushes alerts when no tab is
 * open). Anyone else is absent from the answer.
 */
async function reachableHubs(
	db: D1Database,
	userIds: string[]
): Promise<Map<string, { online: boolean }>> {
	const { results } = await db
		.prepare(
			`SELECT u.id AS id, u.hub_online AS online
			   FROM users u
			  WHERE u.id IN (SELECT value FROM json_each(?))
			    AND (u.hub_online = 1
			         OR EXISTS (SELECT 1 FROM push_subscriptions p WHERE p.user_id = u.id))`
		)
		.bind(JSON.stringify(userIds))
		.all<{ id: string; online: number }>();
	return new Map(results.map((row) => [row.id, { online: row.online === 1 }]));
}
