import type { ChatMessage } from '../../../src/lib/protocol';
import type { HubEvent, RoomSignalReason } from '../../../src/lib/protocol/hub';
import { plainPreview } from '../../../src/lib/preview';

/** How long the room trusts its copy of the member list before reading D1 again. */
const MEMBERS_TTL_MS = 30_000;
/**
 * A member's hub hears from this room at most once per window: the first signal goes at once, and
 * whatever follows within the window is merged into one that leaves when it ends.
 */
export const SIGNAL_WINDOW_MS = 1000;
const MENTION = /@([A-Za-z0-9_.]{3,32})/g;

type Member = { userId: string; usernameKey: string };
type RoomInfo = { kind: 'direct' | 'group' | 'public'; members: Member[]; loadedAt: number };
type Signal = Extract<HubEvent, { type: 'room' }>;

/**
 * Tells members' user hubs that a room has news for them, without one call per member per message
 * (architecture: scale notes). A member's hub hears about a room when the member goes from "read up
 * to date" to "unread", when they are mentioned, and for direct messages; members with the room
 * open in a tab are up to date and hear nothing. A burst costs each member at most one call now and
 * one merged call at the end of the window, whatever its length.
 *
 * The "already told" marks live in the room's own SQLite, so they survive hibernation, and in
 * memory, read once per object lifetime, so a message never reads storage per member; storage is
 * written only when a mark changes. Opening the room clears the member's mark.
 */
export class UnreadSignals {
	#ctx: DurableObjectState;
	#env: Env;
	#isConnected: (userId: string) => boolean;
	#info: Promise<RoomInfo> | null = null;
	#told: Set<string>;
	/** When each member's hub was last called; the next call waits for the window to pass. */
	#lastSent = new Map<string, number>();
	#pending = new Map<string, Signal>();
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
		this.#told = new Set(
			ctx.storage.sql
				.exec<{ user_id: string }>('SELECT user_id FROM unread_signals')
				.toArray()
				.map((row) => row.user_id)
		);
	}

	/** The member opened the room: they are up to date, so their next unread message is news. */
	onConnect(userId: string): void {
		this.#pending.delete(userId);
		if (!this.#told.delete(userId)) return;
		this.#ctx.storage.sql.exec('DELETE FROM unread_signals WHERE user_id = ?', userId);
	}

	/** Someone left, was removed or banned: read the member list again before telling anyone. */
	forget(userId: string): void {
		this.#info = null;
		this.#lastSent.delete(userId);
		this.onConnect(userId);
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
		const mentioned = new Set(
			[...message.body.matchAll(MENTION)].map((m) => m[1]!.replace(/\.+$/, '').toLowerCase())
		);
		const now = Date.now();
		const calls: Promise<unknown>[] = [];
		// Made once per message, and only when someone is told: most messages tell nobody.
		let preview: string | undefined;
		for (const member of info.members) {
			const { userId } = member;
			if (userId === message.senderId || this.#isConnected(userId)) continue;
			const told = this.#told.has(userId);
			const reason: RoomSignalReason | null =
				info.kind === 'direct'
					? 'direct'
					: mentioned.has(member.usernameKey)
						? 'mention'
						: told
							? null
							: 'unread';
			if (!reason) continue;
			if (!told) {
				this.#told.add(userId);
				this.#ctx.storage.sql.exec(
					'INSERT OR REPLACE INTO unread_signals (user_id, seq) VALUES (?, ?)',
					userId,
					message.seq
				);
			}
			const signal: Signal = {
				type: 'room',
				roomId,
				reason,
				seq: message.seq,
				at: message.createdAt,
				senderName: message.senderName,
				preview: (preview ??= plainPreview(message))
			};
			const last = this.#lastSent.get(userId);
			if (last === undefined || now - last >= SIGNAL_WINDOW_MS) {
				this.#lastSent.set(userId, now);
				calls.push(this.#notify(userId, signal));
				continue;
			}
			const queued = this.#pending.get(userId);
			// The newest message wins, but a mention within the window is not forgotten.
			if (queued?.reason === 'mention') signal.reason = 'mention';
			this.#pending.set(userId, signal);
			this.#wakeAt(last + SIGNAL_WINDOW_MS);
		}
		await Promise.allSettled(calls);
	}

	#notify(userId: string, signal: Signal): Promise<unknown> {
		const hub = this.#env.HUBS.get(this.#env.HUBS.idFromName(userId));
		return hub.notify(userId, signal);
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

	async #sendDue(): Promise<void> {
		const now = Date.now();
		const calls: Promise<unknown>[] = [];
		let next = Infinity;
		for (const [userId, signal] of this.#pending) {
			const due = (this.#lastSent.get(userId) ?? 0) + SIGNAL_WINDOW_MS;
			if (due > now) {
				next = Math.min(next, due);
				continue;
			}
			this.#pending.delete(userId);
			this.#lastSent.set(userId, now);
			calls.push(this.#notify(userId, signal));
		}
		if (next !== Infinity) this.#wakeAt(next);
		await Promise.allSettled(calls);
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

async function readRoomInfo(db: D1Database, roomId: string): Promise<RoomInfo> {
	const { results } = await db
		.prepare(
			`SELECT r.kind AS kind, m.user_id AS userId, u.username_key AS usernameKey
			   FROM rooms r
			   JOIN memberships m ON m.room_id = r.id
			   JOIN users u ON u.id = m.user_id
			  WHERE r.id = ?`
		)
		.bind(roomId)
		.all<{ kind: RoomInfo['kind']; userId: string; usernameKey: string }>();
	const kind = results[0]?.kind ?? 'group';
	let members: Member[] = results.map(({ userId, usernameKey }) => ({ userId, usernameKey }));
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
