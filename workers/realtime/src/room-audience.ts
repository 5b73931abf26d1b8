import type { NotifyLevel } from '../../../shared/notify';

/** How long the room trusts its copy of the member list before reading D1 again. */
export const AUDIENCE_TTL_MS = 30_000;

export type RoomKind = 'direct' | 'group' | 'public';

/**
 * Who a room's news is for, as D1 says: the room's kind and name, each member's notification level
 * for it, whom each member has blocked (nothing from a blocked person alerts them or reaches
 * their inbox), and its bots' outgoing webhooks. The people in a direct room that either of them
 * blocked hear nothing at all.
 */
export type Audience = {
	kind: RoomKind;
	name: string;
	levels: Map<string, NotifyLevel>;
	/** Blocker → the people they blocked, for members who blocked anyone. */
	blocked: Map<string, Set<string>>;
	/** The bots' outgoing webhooks that are on: where the room's new messages go besides. */
	webhooks: RoomWebhook[];
	loadedAt: number;
};

export type RoomWebhook = {
	id: string;
	botId: string;
	botUsername: string;
	/** Every new message, or only those that mention the bot. */
	events: 'messages' | 'mentions';
};

/**
 * The room's audience, read once per `AUDIENCE_TTL_MS` (a level changed, or someone blocked, takes
 * effect within that), or again at once after `forget` (someone left). Shared by the unread
 * signals and the inbox rows the flush writes, so both answer to the same list.
 */
export class RoomAudience {
	#db: D1Database;
	#audience: Promise<Audience> | null = null;

	constructor(db: D1Database) {
		this.#db = db;
	}

	/**
	 * Someone left, was removed or banned, changed a setting, or a webhook changed: read D1 again
	 * next time.
	 */
	forget(): void {
		this.#audience = null;
	}

	load(roomId: string): Promise<Audience> {
		const cached = this.#audience;
		if (cached) {
			return cached.then((audience) =>
				Date.now() - audience.loadedAt < AUDIENCE_TTL_MS ? audience : this.#reload(roomId)
			);
		}
		return this.#reload(roomId);
	}

	#reload(roomId: string): Promise<Audience> {
		const loading = readAudience(this.#db, roomId);
		this.#audience = loading;
		loading.catch(() => {
			if (this.#audience === loading) this.#audience = null;
		});
		return loading;
	}
}

/** Whether `userId` blocked `senderId` (a system message has no sender and blocks nobody). */
export function hasBlocked(audience: Audience, userId: string, senderId: string | null): boolean {
	return senderId !== null && audience.blocked.get(userId)?.has(senderId) === true;
}

async function readAudience(db: D1Database, roomId: string): Promise<Audience> {
	// One round trip: the members with their levels, the blocks between members (rare; the
	// primary key of `blocks` leads with the blocker; only members can send here, so a block of
	// anyone else never matters to this room), and the webhooks that are on.
	const [members, blocks, hooks] = await db.batch<Record<string, string>>([
		db
			.prepare(
				`SELECT r.kind AS kind, r.name AS name, m.user_id AS userId, m.notify AS notify
				   FROM rooms r
				   JOIN memberships m ON m.room_id = r.id
				  WHERE r.id = ?`
			)
			.bind(roomId),
		db
			.prepare(
				`SELECT b.blocker_id AS blocker, b.blocked_id AS blocked
				   FROM memberships m
				   JOIN blocks b ON b.blocker_id = m.user_id
				   JOIN memberships other ON other.user_id = b.blocked_id AND other.room_id = m.room_id
				  WHERE m.room_id = ?`
			)
			.bind(roomId),
		db
			.prepare(
				`SELECT w.id AS id, w.bot_id AS botId, u.username AS botUsername, w.events AS events
				   FROM outgoing_webhooks w
				   JOIN users u ON u.id = w.bot_id
				  WHERE w.room_id = ? AND w.disabled_at IS NULL AND u.deleted_at IS NULL`
			)
			.bind(roomId)
	]);
	const rows = (members?.results ?? []) as {
		kind: RoomKind;
		name: string;
		userId: string;
		notify: NotifyLevel;
	}[];
	const kind = rows[0]?.kind ?? 'group';
	const blocked = new Map<string, Set<string>>();
	for (const { blocker, blocked: who } of (blocks?.results ?? []) as {
		blocker: string;
		blocked: string;
	}[]) {
		let set = blocked.get(blocker);
		if (!set) blocked.set(blocker, (set = new Set()));
		set.add(who);
	}
	const levels = new Map(rows.map((row) => [row.userId, row.notify]));
	if (kind === 'direct' && blocked.size > 0) {
		// The door keeps both sides of a blocked conversation out; this keeps the hubs quiet too.
		levels.clear();
	}
	return {
		kind,
		name: rows[0]?.name ?? '',
		levels,
		blocked,
		webhooks: (hooks?.results ?? []) as RoomWebhook[],
		loadedAt: Date.now()
	};
}
