// The friend graph in D1: one row per pair (lower id first), pending until the other side accepts.
import { and, asc, eq, or, sql } from 'drizzle-orm';
import { decidePerson, deny, loadPersonAccess, pairOf, type Denial } from './authz';
import type { Db } from './db';
import { friendships, users } from './db/schema';
import { linkContacts, notifyUser, unlinkContacts, type Realtime } from './realtime-effects';

export type PersonSummary = {
	id: string;
	username: string;
	displayName: string;
	statusText: string;
};

export type FriendLists = {
	friends: PersonSummary[];
	incoming: PersonSummary[];
	outgoing: PersonSummary[];
};

type Outcome<T extends string> = { ok: true; result: T } | Denial;

/**
 * Sends a request, or accepts theirs if they asked first (two people asking each other want the
 * same thing). Refused to yourself, twice, between friends, and across a block.
 */
export async function sendFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Outcome<'requested' | 'accepted'>> {
	const access = await loadPersonAccess(db, userId, personId);
	const decision = decidePerson(access, 'request_friend');
	if (!decision.ok) return decision;
	if (access.friendship?.status === 'pending') {
		return acceptFriendRequest(db, rt, userId, personId);
	}
	const inserted = await db
		.insert(friendships)
		.values({
			...pairOf(userId, personId),
			status: 'pending',
			requestedBy: userId,
			createdAt: Date.now()
		})
		.onConflictDoNothing()
		.returning({ userLow: friendships.userLow });
	// Lost a race with the same request or theirs: the state is whatever won; say so.
	if (inserted.length === 0) {
		return deny(409, 'already_requested', 'A friend request between you already exists.');
	}
	await announceRequests(db, rt, personId);
	return { ok: true, result: 'requested' };
}

export async function cancelFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Outcome<'cancelled'>> {
	const removed = await deletePending(db, userId, personId, userId);
	if (!removed) return deny(404, 'no_request', 'There is no request to cancel.');
	await announceRequests(db, rt, personId);
	return { ok: true, result: 'cancelled' };
}

export async function declineFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Outcome<'declined'>> {
	const removed = await deletePending(db, userId, personId, personId);
	if (!removed) return deny(404, 'no_request', 'There is no request to decline.');
	await Promise.all([
		announceRequests(db, rt, userId),
		notifyUser(rt, personId, { type: 'friends' })
	]);
	return { ok: true, result: 'declined' };
}

export async function acceptFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Outcome<'accepted'>> {
	const pair = pairOf(userId, personId);
	const accepted = await db
		.update(friendships)
		.set({ status: 'accepted', acceptedAt: Date.now() })
		.where(
			and(
				eq(friendships.userLow, pair.userLow),
				eq(friendships.userHigh, pair.userHigh),
				eq(friendships.status, 'pending'),
				eq(friendships.requestedBy, personId)
			)
		)
		.returning({ userLow: friendships.userLow });
	if (accepted.length === 0) return deny(404, 'no_request', 'There is no request to accept.');
	await Promise.all([
		announceRequests(db, rt, userId),
		notifyUser(rt, personId, { type: 'friends' }),
		notifyUser(rt, userId, { type: 'friends' }),
		linkContacts(rt, userId, personId)
	]);
	return { ok: true, result: 'accepted' };
}

export async function removeFriend(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Outcome<'removed'>> {
	const pair = pairOf(userId, personId);
	const removed = await db
		.delete(friendships)
		.where(
			and(
				eq(friendships.userLow, pair.userLow),
				eq(friendships.userHigh, pair.userHigh),
				eq(friendships.status, 'accepted')
			)
		)
		.returning({ userLow: friendships.userLow });
	if (removed.length === 0) return deny(404, 'not_friends', 'You are not friends.');
	await Promise.all([
		unlinkContacts(rt, userId, personId),
		notifyUser(rt, personId, { type: 'friends' }),
		notifyUser(rt, userId, { type: 'friends' })
	]);
	return { ok: true, result: 'removed' };
}

/**
 * Friends, incoming and outgoing requests in one query: the pair's "other" id is joined to users,
 * and both directions of the pair are served by an index (primary key and `user_high`).
 */
export async function listFriends(db: Db, userId: string): Promise<FriendLists> {
	const other = sql`CASE WHEN ${friendships.userLow} = ${userId} THEN ${friendships.userHigh} ELSE ${friendships.userLow} END`;
	const rows = await db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			statusText: users.statusText,
			status: friendships.status,
			requestedBy: friendships.requestedBy
		})
		.from(friendships)
		.innerJoin(users, eq(users.id, other))
		.where(or(eq(friendships.userLow, userId), eq(friendships.userHigh, userId)))
		.orderBy(asc(sql`lower(${users.displayName})`), asc(users.usernameKey));
	const lists: FriendLists = { friends: [], incoming: [], outgoing: [] };
	for (const { status, requestedBy, ...person } of rows) {
		const list =
			status === 'accepted'
				? lists.friends
				: requestedBy === userId
					? lists.outgoing
					: lists.incoming;
		list.push(person);
	}
	return lists;
}

export async function countIncomingRequests(db: Db, userId: string): Promise<number> {
	const [row] = await db
		.select({ n: sql<number>`count(*)` })
		.from(friendships)
		.where(
			and(
				eq(friendships.status, 'pending'),
				sql`${friendships.requestedBy} <> ${userId}`,
				or(eq(friendships.userLow, userId), eq(friendships.userHigh, userId))
			)
		);
	return row?.n ?? 0;
}

/** People who are friends with both of us, in one query. */
export async function listMutualFriends(
	db: Db,
	userId: string,
	personId: string
): Promise<PersonSummary[]> {
	const friendsOf = (id: string) => sql`
		SELECT CASE WHEN user_low = ${id} THEN user_high ELSE user_low END
		  FROM friendships WHERE status = 'accepted' AND (user_low = ${id} OR user_high = ${id})`;
	return db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			statusText: users.statusText
		})
		.from(users)
		.where(
			and(
				sql`${users.id} IN (${friendsOf(userId)})`,
				sql`${users.id} IN (${friendsOf(personId)})`,
				sql`${users.deletedAt} IS NULL`
			)
		)
		.orderBy(asc(sql`lower(${users.displayName})`));
}

async function deletePending(
	db: Db,
	userId: string,
	personId: string,
	requestedBy: string
): Promise<boolean> {
	const pair = pairOf(userId, personId);
	const removed = await db
		.delete(friendships)
		.where(
			and(
				eq(friendships.userLow, pair.userLow),
				eq(friendships.userHigh, pair.userHigh),
				eq(friendships.status, 'pending'),
				eq(friendships.requestedBy, requestedBy)
			)
		)
		.returning({ userLow: friendships.userLow });
	return removed.length > 0;
}

/** The badge of whoever's incoming requests changed, kept live in their open tabs. */
async function announceRequests(db: Db, rt: Realtime, userId: string): Promise<void> {
	const incoming = await countIncomingRequests(db, userId);
	await notifyUser(rt, userId, { type: 'requests', incoming });
}
