// The friend graph in D1: one row per pair (lower id first), pending until the other side accepts.
import { and, asc, eq, sql } from 'drizzle-orm';
import { decidePerson, loadPersonAccess, pairOf } from '$lib/server/rooms/authz';
import { deny, type Done } from '$lib/server/outcome';
import type { Db } from '$lib/server/db';
import { friendships, users } from '$shared/db/schema';
import { pictureUrlColumn } from '$lib/server/files/picture-url';
import {
	countIncomingRequests,
	friendIdsOf,
	friendshipsOf,
	otherInFriendship
} from '$shared/db/friends';
import {
	linkContacts,
	notifyUser,
	unlinkContacts,
	type Realtime
} from '$lib/server/realtime/effects';
import { addToInbox, markInboxRead } from '$lib/server/notifications/inbox';

export type PersonSummary = {
	id: string;
	username: string;
	displayName: string;
	statusText: string;
	/** Their profile picture (`/files/<id>`), or null: initials. */
	picture: string | null;
};

/** The columns of a `PersonSummary`, for every query that lists people. */
export const personColumns = {
	id: users.id,
	username: users.username,
	displayName: users.displayName,
	statusText: users.statusText,
	picture: pictureUrlColumn(users.avatarKey)
};

export type FriendLists = {
	friends: PersonSummary[];
	incoming: PersonSummary[];
	outgoing: PersonSummary[];
};

/**
 * Sends a request, or accepts theirs if they asked first (two people asking each other want the
 * same thing). Refused to yourself, twice, between friends, and across a block.
 */
export async function sendFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done<{ result: 'requested' | 'accepted' }>> {
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
	await Promise.all([
		announceRequests(db, rt, personId),
		addToInbox(db, rt, { kind: 'friend_request', userId: personId, actorId: userId })
	]);
	return { ok: true, result: 'requested' };
}

export async function cancelFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done<{ result: 'cancelled' }>> {
	return answerRequest(db, rt, userId, personId, 'cancelled');
}

export async function declineFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done<{ result: 'declined' }>> {
	return answerRequest(db, rt, userId, personId, 'declined');
}

export async function acceptFriendRequest(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done<{ result: 'accepted' }>> {
	return answerRequest(db, rt, userId, personId, 'accepted');
}

export async function removeFriend(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done<{ result: 'removed' }>> {
	const removed = await db
		.delete(friendships)
		.where(pairIs(userId, personId, 'accepted'))
		.returning({ userLow: friendships.userLow });
	if (removed.length === 0) return deny(404, 'not_friends', 'You are not friends.');
	await Promise.all([
		unlinkContacts(rt, userId, personId),
		notifyUser(rt, personId, { type: 'friends' }),
		notifyUser(rt, userId, { type: 'friends' })
	]);
	return { ok: true, result: 'removed' };
}

type Answer = 'cancelled' | 'declined' | 'accepted';

const ANSWER_VERB: Record<Answer, string> = {
	cancelled: 'cancel',
	declined: 'decline',
	accepted: 'accept'
};

/**
 * Ends a pending request one of three ways: its sender cancels it, or its recipient declines or
 * accepts it. The row must still be pending and sent by the right side, or nothing changes. Then
 * everyone whose lists or badge changed hears of it in their open tabs.
 */
async function answerRequest<A extends Answer>(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string,
	answer: A
): Promise<Done<{ result: A }>> {
	const pending = pairIs(userId, personId, 'pending', answer === 'cancelled' ? userId : personId);
	const changed =
		answer === 'accepted'
			? await db
					.update(friendships)
					.set({ status: 'accepted', acceptedAt: Date.now() })
					.where(pending)
					.returning({ userLow: friendships.userLow })
			: await db.delete(friendships).where(pending).returning({ userLow: friendships.userLow });
	if (changed.length === 0) {
		return deny(404, 'no_request', `There is no request to ${ANSWER_VERB[answer]}.`);
	}
	// The recipient's incoming count changed; the sender's lists changed unless they cancelled.
	const recipient = answer === 'cancelled' ? personId : userId;
	await Promise.all([
		announceRequests(db, rt, recipient),
		answer === 'cancelled' ? null : notifyUser(rt, personId, { type: 'friends' }),
		answer === 'accepted' ? notifyUser(rt, userId, { type: 'friends' }) : null,
		answer === 'accepted' ? linkContacts(rt, userId, personId) : null,
		answer === 'accepted'
			? addToInbox(db, rt, { kind: 'friend_accepted', userId: personId, actorId: userId })
			: null,
		// Answered or withdrawn: the recipient's inbox item about the request has nothing left to do.
		markInboxRead(db, rt, recipient, {
			key: `friend_request:${recipient === userId ? personId : userId}`
		})
	]);
	return { ok: true, result: answer };
}

/**
 * Friends, incoming and outgoing requests in one query: the pair's "other" id is joined to users,
 * and both directions of the pair are served by an index (primary key and `user_high`).
 */
export async function listFriends(db: Db, userId: string): Promise<FriendLists> {
	const rows = await db
		.select({
			...personColumns,
			status: friendships.status,
			requestedBy: friendships.requestedBy
		})
		.from(friendships)
		.innerJoin(users, eq(users.id, otherInFriendship(userId)))
		.where(friendshipsOf(userId))
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

/** People who are friends with both of us, in one query. */
export async function listMutualFriends(
	db: Db,
	userId: string,
	personId: string
): Promise<PersonSummary[]> {
	return db
		.select(personColumns)
		.from(users)
		.where(
			and(
				sql`${users.id} IN (${friendIdsOf(userId)})`,
				sql`${users.id} IN (${friendIdsOf(personId)})`,
				sql`${users.deletedAt} IS NULL`
			)
		)
		.orderBy(asc(sql`lower(${users.displayName})`));
}

/** The pair's friendship row, in a given state and, for a request, sent by a given side. */
function pairIs(
	userId: string,
	personId: string,
	status: 'pending' | 'accepted',
	requestedBy?: string
) {
	const pair = pairOf(userId, personId);
	return and(
		eq(friendships.userLow, pair.userLow),
		eq(friendships.userHigh, pair.userHigh),
		eq(friendships.status, status),
		requestedBy === undefined ? undefined : eq(friendships.requestedBy, requestedBy)
	);
}

/** The badge of whoever's incoming requests changed, kept live in their open tabs. */
async function announceRequests(db: Db, rt: Realtime, userId: string): Promise<void> {
	const incoming = await countIncomingRequests(db, userId);
	await notifyUser(rt, userId, { type: 'requests', incoming });
}
