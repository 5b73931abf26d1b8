import { hubStub } from '../../../shared/objects';
import type { ChatMessage } from '../../../shared/protocol';
import type { HubEvent, RoomSignalReason } from '../../../shared/protocol/hub';
import { plainPreview } from '../../../shared/preview';

/** How long the room trusts its copy of the member list before reading D1 again. */
const MEMBERS_TTL_MS = 30_000;
/**
 * A member's hub hears from this room at most once per window. Mentions and direct messages go at
 * once; a group or public room becoming unread waits for the window to end, so a member who opens the
 * room meanwhile is never told, and whatever follows within the window is merged into that signal.
 */
export const SIGNAL_WINDOW_MS = 1000;
/**
 * How many waiting signals the room handles before it lets the next socket event run: one D1
 * lookup of which of them have a tab open, then a call to each of those hubs. The first message in
 * a room of a thousand offline members must not hold up the messages and joins behind it.
 */
const SIGNAL_CHUNK = 50;
/**
 * The pause between chunks: a thousand signals take two seconds, during which members who open the
 * room (a join storm after a message) drop out of the queue instead of costing a call each.
 */
const CHUNK_GAP_MS = 100;
/** How long the marks of members who opened the room gather before one statement clears them. */
const CLEAR_DELAY_MS = 250;

type Member = { userId: string };
type RoomInfo = { kind: 'direct' | 'group' | 'public'; members: Member[]; loadedAt: number };
type Signal = Extract<HubEvent, { type: 'room' }>;
type Pending = { signal: Signal; due: number };

/**
 * Tells members' user hubs that a room has news for them, without one call per member per message
 * (architecture: scale notes). A member's hub hears about a room when the member goes from "read up
 * to date" to "unread", when they are mentioned, and for direct messages; members with the room
 * open in a tab are up to date and hear nothing. A burst costs each member at most one call now and
 * one merged call at the end of the window, whatever its length.
 *
 * The merged calls of a window go only to hubs that D1 marks online (`users.hub_online`): a hub
 * with no tab would drop the signal anyway, and in a large room nearly every member has none. Those
 * calls were most of the room's work in a join storm (each wakes an object).
 *
 * The "already told" marks live in memory, read once per object lifetime, so a message never reads
 * storage per member, and in the room's own SQLite, so they survive hibernation: written when the
 * hub is actually called, one statement per batch. Opening the room clears the member's mark.
 */
export class UnreadSignals {
	#ctx: DurableObjectState;
	#env: Env;
	#isConnected: (userId: string) => boolean;
	#info: Promise<RoomInfo> | null = null;
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

	constructor(ctx: DurableObjectState, env: Env, isConnected: (userId: string) => boolean) {
		this.#ctx = ctx;
		this.#env = env;
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

	/** The member opened the room: they are up to date, so their next unread message is news. */
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
		this.#info = null;
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

	onMessage(roomId: string, message: ChatMessage): void {
		this.#ctx.waitUntil(
			this.#signal(roomId, message).catch((err: unknown) => {
				// A lost signal costs a stale badge until the next page load, never a message.
				console.warn('unread signal failed', err);
			})
		);
	}

	async #signal(roomId: string, message: ChatMessage): Promise<void> {
		const info = await this.#load(roomId);
		// Whom the room found mentioned, by the one rule and cap the message itself shows: the
		// body is not read again here, or an address like a@carol.x would page carol, and a
		// message naming hundreds of members would call hundreds of hubs at once.
		const mentioned = new Set(message.mentions);
		const now = Date.now();
		const calls: Promise<unknown>[] = [];
		const marks: [string, number][] = [];
		// Made once per message, and only when someone is told: most messages tell nobody.
		let news: Pick<Signal, 'seq' | 'at' | 'senderName' | 'preview'> | undefined;
		for (const member of info.members) {
			const { userId } = member;
			if (userId === message.senderId || this.#isConnected(userId)) continue;
			const told = this.#told.has(userId);
			const reason: RoomSignalReason | null =
				info.kind === 'direct'
					? 'direct'
					: mentioned.has(userId)
						? 'mention'
						: told
							? null
							: 'unread';
			const queued = this.#pending.get(userId);
			if (!reason && !queued) continue;
			news ??= {
				seq: message.seq,
				at: message.createdAt,
				senderName: message.senderName,
				preview: plainPreview(message)
			};
			if (!reason) {
				// Already told, with the signal still waiting: it leaves with the newest message.
				if (queued) queued.signal = { ...queued.signal, ...news };
				continue;
			}
			const signal: Signal = { type: 'room', roomId, reason, ...news };
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
			// The newest message wins, but a mention within the window is not forgotten.
			if (queued?.signal.reason === 'mention') signal.reason = 'mention';
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
		for (;;) {
			const now = Date.now();
			const chunk: [string, Signal][] = [];
			let next = Infinity;
			for (const [userId, { signal, due }] of this.#pending) {
				if (due > now) {
					next = Math.min(next, due);
					continue;
				}
				if (chunk.length >= SIGNAL_CHUNK) continue;
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
			// Only hubs with a tab open have anyone to tell; the others would drop the signal. If D1
			// cannot say, every hub is called, as a signal lost costs a stale badge.
			const online = await hubsOnline(
				this.#env.DB,
				chunk.map(([userId]) => userId)
			).catch((err: unknown) => {
				console.warn('hub presence lookup failed', err);
				return null;
			});
			await Promise.allSettled(
				chunk
					.filter(([userId]) => !online || online.has(userId))
					.map(([userId, signal]) => this.#notify(userId, signal))
			);
			if (chunk.length === SIGNAL_CHUNK) await new Promise((r) => setTimeout(r, CHUNK_GAP_MS));
		}
	}

	#load(roomId: string): Promise<RoomInfo> {
		const cached = this.#info;
		if (cached) {
			return cached.then((info) =>
				Date.now() - info.loadedAt < MEMBERS_TTL_MS ? info : this.#reload(roomId)
			);
		}
		return this.#reload(roomId);
	}

	#reload(roomId: string): Promise<RoomInfo> {
		const loading = readRoomInfo(this.#env.DB, roomId);
		this.#info = loading;
		loading.catch(() => {
			if (this.#info === loading) this.#info = null;
		});
		return loading;
	}
}

/** Which of these users have a hub with a tab open (see `users.hub_online`): one statement. */
async function hubsOnline(db: D1Database, userIds: string[]): Promise<Set<string>> {
	const { results } = await db
		.prepare(
			`SELECT id FROM users
			  WHERE hub_online = 1 AND id IN (SELECT value FROM json_each(?))`
		)
		.bind(JSON.stringify(userIds))
		.all<{ id: string }>();
	return new Set(results.map((row) => row.id));
}

async function readRoomInfo(db: D1Database, roomId: string): Promise<RoomInfo> {
	const { results } = await db
		.prepare(
			`SELECT r.kind AS kind, m.user_id AS userId
			   FROM rooms r
			   JOIN memberships m ON m.room_id = r.id
			  WHERE r.id = ?`
		)
		.bind(roomId)
		.all<{ kind: RoomInfo['kind']; userId: string }>();
	const kind = results[0]?.kind ?? 'group';
	let members: Member[] = results.map(({ userId }) => ({ userId }));
	const [a, b] = members;
	if (kind === 'direct' && a && b) {
		// The door keeps both sides of a blocked conversation out; this keeps the hubs quiet too.
		const blocked = await db
			.prepare(
				`SELECT 1 FROM blocks WHERE (blocker_id = ?1 AND blocked_id = ?2)
				    OR (blocker_id = ?2 AND blocked_id = ?1) LIMIT 1`
			)
			.bind(a.userId, b.userId)
			.first();
		if (blocked) members = [];
	}
	return { kind, members, loadedAt: Date.now() };
}
