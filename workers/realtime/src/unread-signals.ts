import type { ChatMessage } from '../../../src/lib/protocol';
import type { RoomSignalReason } from '../../../src/lib/protocol/hub';

/** How long the room trusts its copy of the member list before reading D1 again. */
const MEMBERS_TTL_MS = 30_000;
const PREVIEW_LENGTH = 140;
const MENTION = /@([A-Za-z0-9_.]{3,32})/g;

type Member = { userId: string; usernameKey: string };
type RoomInfo = { kind: 'direct' | 'group' | 'public'; members: Member[]; loadedAt: number };

/**
 * Tells members' user hubs that a room has news for them, without one call per member per message
 * (architecture: scale notes). A member's hub hears about a room when the member goes from "read up
 * to date" to "unread", when they are mentioned, and for every direct message; members with the
 * room open in a tab are up to date and hear nothing. The "already told" marks live in the room's
 * own SQLite, so they survive hibernation; opening the room clears the member's mark.
 */
export class UnreadSignals {
	#ctx: DurableObjectState;
	#env: Env;
	#isConnected: (userId: string) => boolean;
	#info: Promise<RoomInfo> | null = null;

	constructor(ctx: DurableObjectState, env: Env, isConnected: (userId: string) => boolean) {
		this.#ctx = ctx;
		this.#env = env;
		this.#isConnected = isConnected;
		// Its own table, created here, so it stays out of the room's versioned migrations.
		ctx.storage.sql.exec(
			'CREATE TABLE IF NOT EXISTS unread_signals (user_id TEXT PRIMARY KEY, seq INTEGER NOT NULL)'
		);
	}

	/** The member opened the room: they are up to date, so their next unread message is news. */
	onConnect(userId: string): void {
		this.#ctx.storage.sql.exec('DELETE FROM unread_signals WHERE user_id = ?', userId);
	}

	/** Someone left, was removed or banned: read the member list again before telling anyone. */
	forget(userId: string): void {
		this.#info = null;
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
		const sql = this.#ctx.storage.sql;
		const calls: Promise<unknown>[] = [];
		for (const member of info.members) {
			if (member.userId === message.senderId || this.#isConnected(member.userId)) continue;
			const told =
				sql.exec('SELECT 1 FROM unread_signals WHERE user_id = ?', member.userId).toArray().length >
				0;
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
				sql.exec(
					'INSERT INTO unread_signals (user_id, seq) VALUES (?, ?)',
					member.userId,
					message.seq
				);
			}
			const hub = this.#env.HUBS.get(this.#env.HUBS.idFromName(member.userId));
			calls.push(
				hub.notify(member.userId, {
					type: 'room',
					roomId,
					reason,
					seq: message.seq,
					at: message.createdAt,
					senderName: message.senderName,
					preview: message.body.slice(0, PREVIEW_LENGTH)
				})
			);
		}
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
