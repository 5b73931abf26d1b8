// Finding people: search by username or display name, and the profile page. Blocked users don't
// appear to each other.
import { and, asc, eq, sql } from 'drizzle-orm';
import { decidePerson, loadPersonAccess } from '$lib/server/rooms/authz';
import type { Db } from '$lib/server/db';
import { blocks, friendships, rooms, users } from '$shared/db/schema';
import { directKeyOf } from '$lib/server/rooms/direct-rooms';
import { listMutualFriends, personColumns, type PersonSummary } from './friends';
import { usernameKey } from '$lib/server/accounts/users';
import { pictureUrl } from '$lib/server/files/picture-url';

export const SEARCH_LIMIT = 20;

export type Relation = 'self' | 'friends' | 'incoming' | 'outgoing' | 'none';
export type PersonResult = PersonSummary & { relation: Relation };

export type Profile = PersonSummary & {
	/** A bot's profile says so; it cannot be befriended or messaged directly. */
	kind: 'person' | 'bot';
	bio: string;
	relation: Relation;
	blockedByMe: boolean;
	dmPolicy: 'friends' | 'everyone';
	mayMessage: boolean;
	mutualFriends: PersonSummary[];
	directRoomId: string | null;
};

function relationOf(
	userId: string,
	personId: string,
	friendship: { status: string; requestedBy: string } | null | undefined
): Relation {
	if (userId === personId) return 'self';
	if (!friendship?.status) return 'none';
	if (friendship.status === 'accepted') return 'friends';
	return friendship.requestedBy === userId ? 'outgoing' : 'incoming';
}

/**
 * Prefix match on username and display name, case-insensitive. Ranked: exact matches first, then
 * friends, then everyone else.
 */
export async function searchPeople(
	db: Db,
	userId: string,
	query: string,
	limit = SEARCH_LIMIT
): Promise<PersonResult[]> {
	const q = query.trim().replace(/^@/, '').toLowerCase();
	if (!q) return [];
	const rows = await searchPeopleQuery(db, userId, q, limit);
	return rows.map(({ status, requestedBy, ...person }) => ({
		...person,
		relation: relationOf(userId, person.id, status && requestedBy ? { status, requestedBy } : null)
	}));
}

/**
 * The search as one statement, for `q` already trimmed and lower-cased. Both prefixes are written
 * as ranges, not LIKE, so each side of the OR walks an index (the unique username key, and the
 * index on `lower(display_name)`) instead of scanning every user. The display name's upper bound
 * is the highest code point, so names with an emoji right after the prefix still match.
 */
export function searchPeopleQuery(db: Db, userId: string, q: string, limit: number) {
	return db
		.select({
			...personColumns,
			status: friendships.status,
			requestedBy: friendships.requestedBy
		})
		.from(users)
		.leftJoin(
			friendships,
			and(
				eq(friendships.userLow, sql`min(${users.id}, ${userId})`),
				eq(friendships.userHigh, sql`max(${users.id}, ${userId})`)
			)
		)
		.where(
			and(
				sql`${users.deletedAt} IS NULL`,
				// Bots are found in their rooms' member lists, not among people to befriend.
				eq(users.kind, 'person'),
				sql`((${users.usernameKey} >= ${q} AND ${users.usernameKey} < ${q + '\uffff'})
					OR (lower(${users.displayName}) >= ${q}
						AND lower(${users.displayName}) < ${q + '\u{10ffff}'}))`,
				sql`NOT EXISTS (SELECT 1 FROM ${blocks} WHERE
					(${blocks.blockerId} = ${userId} AND ${blocks.blockedId} = ${users.id})
					OR (${blocks.blockerId} = ${users.id} AND ${blocks.blockedId} = ${userId}))`
			)
		)
		.orderBy(
			sql`CASE WHEN ${users.usernameKey} = ${q} OR lower(${users.displayName}) = ${q} THEN 0
				WHEN ${friendships.status} = 'accepted' THEN 1 ELSE 2 END`,
			asc(users.usernameKey)
		)
		.limit(limit);
}

/** A profile as `userId` may see it; null when there is no such person or they blocked the viewer. */
export async function getProfile(
	db: Db,
	userId: string,
	username: string
): Promise<Profile | null> {
	const [person] = await db
		.select()
		.from(users)
		.where(eq(users.usernameKey, usernameKey(username)))
		.limit(1);
	if (!person) return null;
	const access = await loadPersonAccess(db, userId, person.id);
	if (!decidePerson(access, 'view').ok) return null;
	const [mutualFriends, direct] = await Promise.all([
		person.id === userId ? Promise.resolve([]) : listMutualFriends(db, userId, person.id),
		db
			.select({ id: rooms.id })
			.from(rooms)
			.where(eq(rooms.directKey, directKeyOf(userId, person.id)))
			.limit(1)
	]);
	return {
		id: person.id,
		username: person.username,
		displayName: person.displayName,
		statusText: person.statusText,
		picture: pictureUrl(person.avatarKey),
		kind: person.kind,
		bio: person.bio,
		relation: relationOf(userId, person.id, access.friendship),
		blockedByMe: access.blockedByMe,
		dmPolicy: person.dmPolicy,
		mayMessage: decidePerson(access, 'message').ok || (direct.length > 0 && !access.blockedByMe),
		mutualFriends,
		directRoomId: direct[0]?.id ?? null
	};
}

/** "DMs from: friends / everyone". */
export async function setDmPolicy(
	db: Db,
	userId: string,
	policy: 'friends' | 'everyone'
): Promise<void> {
	await db.update(users).set({ dmPolicy: policy }).where(eq(users.id, userId));
}

/** The id behind a username, for actions that arrive with the username in the URL. */
export async function findPersonId(db: Db, username: string): Promise<string | null> {
	const [row] = await db
		.select({ id: users.id })
		.from(users)
		.where(and(eq(users.usernameKey, usernameKey(username)), sql`${users.deletedAt} IS NULL`))
		.limit(1);
	return row?.id ?? null;
}
