// The one place that answers "may this user do X to this room, message or file". Every page load,
// form action, API route and the WebSocket door asks here, so a rule changes in one place. Files
// and history pages are 'read'. Per-message rules (authors edit their own, admins delete any) are
// applied by the room object to each frame, with the role this module's answer gave the door.
//
// Threat model: room ids travel in URLs and can be guessed or leaked, so knowing an id grants
// nothing. A private room is indistinguishable from a missing one to a non-member (404). Bans and
// blocks are checked on every request, not cached, so they take effect at once; the app also closes
// the live sockets (invariant 6) so nothing already open outlives the decision.
import { error } from '@sveltejs/kit';
import { and, eq, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { blocks, friendships, memberships, roomBans, rooms, users } from '$shared/db/schema';
import type { Membership, Role, Room } from './rooms';
import { deny, type Denial, type Done } from '$lib/server/outcome';

export type RoomAction =
	/** See that the room exists: its name and member count (public rooms, before joining). */
	| 'view'
	/** Read it: the timeline, history pages, files, the live socket (and sending through it). */
	| 'read'
	| 'join'
	| 'leave'
	/** The member's own settings: notification level, pin, archive. */
	| 'configure'
	| 'add_member'
	| 'remove_member'
	| 'set_role'
	| 'ban'
	/** Name, description, icon. */
	| 'edit'
	| 'manage_invites'
	| 'transfer'
	| 'delete';

export const ROOM_ACTIONS: readonly RoomAction[] = [
	'view',
	'read',
	'join',
	'leave',
	'configure',
	'add_member',
	'remove_member',
	'set_role',
	'ban',
	'edit',
	'manage_invites',
	'transfer',
	'delete'
];

/** What the rules need to know about one user and one room, read in one round trip. */
export type RoomAccess = {
	userId: string | null;
	room: Room | null;
	membership: Membership | null;
	banned: boolean;
	/** For direct rooms: a block between the two people, in either direction. */
	block: 'by_me' | 'by_peer' | null;
};

const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };
const ADMIN_ACTIONS = new Set<RoomAction>([
	'add_member',
	'remove_member',
	'set_role',
	'ban',
	'edit',
	'manage_invites'
]);
const OWNER_ACTIONS = new Set<RoomAction>(['transfer', 'delete']);

/**
 * The columns that decide a room for one person, for a select over `rooms` left-joined to their
 * membership (`membershipOf`): the room, the membership, a ban, and for a direct room a block
 * between its two people. `userId` is a bound id (pages) or a column (the door, which joins the
 * person from the session), so both build their one statement from the same rules.
 */
export function roomAccessColumns(userId: string | SQLWrapper) {
	return {
		room: rooms,
		membership: memberships,
		banned: sql<number>`exists (select 1 from ${roomBans} where ${roomBans.roomId} = ${rooms.id} and ${roomBans.userId} = ${userId})`,
		// A direct room's key names both people, so a block between them is found without knowing
		// the peer's id first.
		blocker: sql<string | null>`(select ${blocks.blockerId} from ${blocks}
			where ${rooms.kind} = 'direct'
			and (${blocks.blockerId} = ${userId} or ${blocks.blockedId} = ${userId})
			and ${rooms.directKey} in (${blocks.blockerId} || ':' || ${blocks.blockedId}, ${blocks.blockedId} || ':' || ${blocks.blockerId})
			limit 1)`
	};
}

/**
 * The rooms this person may read now, as SQL over `rooms` for queries that read many rooms at once
 * (search): the `read` rule of `decideRoom`, in the query itself, from `roomAccessColumns`' own
 * ban and block checks. Selects `room_id`, `search_key` and `joined`. A member reads their
 * room unless banned, and a direct one only while neither person blocks the other; with
 * `publicRooms`, every public room they are not banned from is added (`joined` 0), for searching
 * before joining, which `view` allows. A test holds this to `decideRoom`.
 */
export function readableRooms(userId: string, { publicRooms = false } = {}): SQL {
	const { banned, blocker } = roomAccessColumns(userId);
	const mine = sql`select ${rooms.id} as room_id, ${rooms.searchKey} as search_key, 1 as joined
		from ${memberships} join ${rooms} on ${rooms.id} = ${memberships.roomId}
		where ${memberships.userId} = ${userId} and not ${banned} and ${blocker} is null`;
	if (!publicRooms) return mine;
	return sql`${mine} union all
		select ${rooms.id}, ${rooms.searchKey}, 0 from ${rooms}
		where ${rooms.kind} = 'public' and not ${banned}
		and not exists (select 1 from ${memberships} where ${membershipOf(userId)})`;
}

/** The join condition for `roomAccessColumns`: this person's membership of the room. */
export function membershipOf(userId: string | SQLWrapper) {
	return and(eq(memberships.roomId, rooms.id), eq(memberships.userId, userId))!;
}

/** A row of `roomAccessColumns`, as the rules read it. */
export function accessOf(
	userId: string,
	row: { room: Room | null; membership: Membership | null; banned: number; blocker: string | null }
): RoomAccess {
	return {
		userId,
		room: row.room,
		membership: row.membership,
		banned: Boolean(row.banned),
		block: row.blocker === null ? null : row.blocker === userId ? 'by_me' : 'by_peer'
	};
}

export async function loadRoomAccess(
	db: Db,
	roomId: string,
	userId: string | null
): Promise<RoomAccess> {
	if (!userId) {
		const [room] = await db.select().from(rooms).where(eq(rooms.id, roomId)).limit(1);
		return { userId, room: room ?? null, membership: null, banned: false, block: null };
	}
	const [row] = await db
		.select(roomAccessColumns(userId))
		.from(rooms)
		.leftJoin(memberships, membershipOf(userId))
		.where(eq(rooms.id, roomId))
		.limit(1);
	return accessOf(userId, row ?? { room: null, membership: null, banned: 0, blocker: null });
}

/** The rules, as a pure function of what was loaded: the authorization matrix in code. */
export function decideRoom(access: RoomAccess, action: RoomAction): Done {
	const { room, membership } = access;
	if (!access.userId) return deny(401, 'sign_in', 'Sign in first.');
	if (!room) return notFound();
	if (access.banned) return deny(403, 'banned', 'You are banned from this room.');

	if (room.kind === 'direct') {
		if (!membership) return notFound();
		if (access.block === 'by_me') {
			return deny(
				403,
				'blocked',
				'You blocked this person. Unblock them to see this conversation.'
			);
		}
		if (access.block === 'by_peer') {
			return deny(403, 'blocked', 'This conversation is not available.');
		}
		if (action === 'view' || action === 'read' || action === 'configure' || action === 'join') {
			return allow;
		}
		return deny(400, 'direct_room', 'Direct conversations have no members to manage.');
	}

	if (!membership) {
		if (room.kind === 'group') {
			if (action === 'join') {
				return deny(403, 'invite_only', 'This group is invite-only: ask a member for a link.');
			}
			return notFound();
		}
		if (action === 'view' || action === 'join') return allow;
		return deny(403, 'not_member', 'Join this room first.');
	}

	const rank = RANK[membership.role];
	if (OWNER_ACTIONS.has(action) && rank < RANK.owner) {
		return deny(403, 'forbidden', 'Only the owner can do that.');
	}
	if (ADMIN_ACTIONS.has(action) && rank < RANK.admin) {
		return deny(403, 'forbidden', 'Only admins can do that.');
	}
	if (action === 'leave' && membership.role === 'owner') {
		return deny(409, 'last_owner', 'You own this room: transfer ownership or delete it first.');
	}
	return allow;
}

export type MemberChange = 'remove' | 'ban' | 'promote' | 'demote' | 'transfer';

/**
 * May `actor` make this change to `target`? `ownerCount` is the room's owners, so the last one can
 * never be demoted, removed or banned: a room always has someone who can run it.
 */
export function decideMemberChange(
	actor: Membership,
	target: Membership | null,
	change: MemberChange,
	ownerCount: number
): Done {
	if (!target) return deny(404, 'bad_target', 'That person is not a member of this room.');
	if (change === 'transfer') {
		if (actor.role !== 'owner') return deny(403, 'forbidden', 'Only the owner can do that.');
		if (target.userId === actor.userId) {
			return deny(400, 'self', 'You already own this room.');
		}
		return allow;
	}
	if (RANK[actor.role] < RANK.admin) return deny(403, 'forbidden', 'Only admins can do that.');
	if (target.role === 'owner') {
		if (ownerCount <= 1) {
			return deny(
				409,
				'last_owner',
				'The owner cannot be demoted or removed: transfer ownership first.'
			);
		}
		if (actor.role !== 'owner') {
			return deny(403, 'forbidden', 'Only an owner can change another owner.');
		}
	}
	if ((change === 'remove' || change === 'ban') && target.userId === actor.userId) {
		return deny(400, 'self', 'To leave the room, use Leave.');
	}
	if (change === 'promote' && target.role !== 'member') {
		return deny(409, 'bad_target', 'That person is already an admin.');
	}
	if (change === 'demote' && target.role !== 'admin') {
		return deny(409, 'bad_target', 'That person is not an admin.');
	}
	return allow;
}

export type PersonAction =
	/** See them in search and on their profile. */
	| 'view'
	| 'request_friend'
	/** Open (or create) a direct conversation with them. */
	| 'message'
	| 'block';

/** What the rules need to know about me and another person, read in one round trip. */
export type PersonAccess = {
	userId: string;
	person: { id: string; dmPolicy: 'friends' | 'everyone'; kind: 'person' | 'bot' } | null;
	friendship: { status: 'pending' | 'accepted'; requestedBy: string } | null;
	blockedByMe: boolean;
	blockedByThem: boolean;
};

/** Friendships are stored once per pair, lower id first, so both directions share one row. */
export function pairOf(a: string, b: string): { userLow: string; userHigh: string } {
	return a < b ? { userLow: a, userHigh: b } : { userLow: b, userHigh: a };
}

export async function loadPersonAccess(
	db: Db,
	userId: string,
	personId: string
): Promise<PersonAccess> {
	const pair = pairOf(userId, personId);
	const [personRows, friendshipRows, blockRows] = await db.batch([
		db
			.select({
				id: users.id,
				dmPolicy: users.dmPolicy,
				kind: users.kind,
				deletedAt: users.deletedAt
			})
			.from(users)
			.where(eq(users.id, personId))
			.limit(1),
		db
			.select({ status: friendships.status, requestedBy: friendships.requestedBy })
			.from(friendships)
			.where(and(eq(friendships.userLow, pair.userLow), eq(friendships.userHigh, pair.userHigh)))
			.limit(1),
		db
			.select({ blockerId: blocks.blockerId })
			.from(blocks)
			.where(
				or(
					and(eq(blocks.blockerId, userId), eq(blocks.blockedId, personId)),
					and(eq(blocks.blockerId, personId), eq(blocks.blockedId, userId))
				)
			)
	]);
	const person = personRows[0];
	return {
		userId,
		person:
			person && person.deletedAt === null
				? { id: person.id, dmPolicy: person.dmPolicy, kind: person.kind }
				: null,
		friendship: friendshipRows[0] ?? null,
		blockedByMe: blockRows.some((b) => b.blockerId === userId),
		blockedByThem: blockRows.some((b) => b.blockerId === personId)
	};
}

/**
 * Blocked users don't appear to each other, can't befriend or message each other. The blocker
 * still sees the blocked person's profile, where the Unblock button is.
 */
export function decidePerson(access: PersonAccess, action: PersonAction): Done {
	const { person, friendship } = access;
	if (!person || (access.blockedByThem && action === 'view')) {
		return deny(404, 'not_found', 'There is no such person.');
	}
	if (action === 'view') return allow;
	if (person.id === access.userId) {
		const what = { request_friend: 'befriend', message: 'message', block: 'block' }[action];
		return deny(400, 'self', `You can't ${what} yourself.`);
	}
	if (action === 'block') {
		return access.blockedByMe ? deny(409, 'already_blocked', 'You already blocked them.') : allow;
	}
	// A bot lives in the room it was made for: it has no friends and no direct conversations.
	if (person.kind === 'bot') {
		return deny(400, 'bot', 'This is a bot: talk to it in its room.');
	}
	if (access.blockedByMe)
		return deny(403, 'blocked', 'You blocked this person: unblock them first.');
	if (access.blockedByThem) return deny(403, 'blocked', "You can't contact this person.");
	if (action === 'request_friend') {
		if (friendship?.status === 'accepted') {
			return deny(409, 'already_friends', 'You are already friends.');
		}
		if (friendship?.requestedBy === access.userId) {
			return deny(409, 'already_requested', 'You already sent a friend request.');
		}
		return allow;
	}
	if (friendship?.status === 'accepted' || person.dmPolicy === 'everyone') return allow;
	return deny(403, 'dm_not_allowed', 'This person only accepts messages from friends.');
}

/** Loads and decides. On success the room and the membership are what the caller works with. */
export async function authorizeRoom(
	db: Db,
	userId: string | null,
	roomId: string,
	action: RoomAction
): Promise<Done<RoomAccess & { room: Room }>> {
	const access = await loadRoomAccess(db, roomId, userId);
	const decision = decideRoom(access, action);
	if (!decision.ok) return decision;
	return { ok: true, ...access, room: access.room! };
}

/** For page loads and endpoints: a denial becomes SvelteKit's error page / JSON error. */
export async function requireRoom(
	db: Db,
	userId: string | null,
	roomId: string,
	action: RoomAction
): Promise<RoomAccess & { room: Room }> {
	return requireAccess(await loadRoomAccess(db, roomId, userId), action);
}

/** `requireRoom` on access already loaded (see `roomAccessFor`, which loads it once a request). */
export function requireAccess(access: RoomAccess, action: RoomAction): RoomAccess & { room: Room } {
	const decision = decideRoom(access, action);
	if (!decision.ok) error(decision.status, { message: decision.message, code: decision.code });
	return { ...access, room: access.room! };
}

const allow: Done = { ok: true };

function notFound(): Denial {
	// The same answer whether the room is missing or private, so ids cannot be probed.
	return deny(404, 'not_found', 'This room does not exist.');
}
