// Blocking: ends any friendship or request between the two, hides each from the other, and shuts
// their direct conversation for both at once.
import { and, asc, eq } from 'drizzle-orm';
import { decidePerson, loadPersonAccess, pairOf } from '$lib/server/rooms/authz';
import type { Done } from '$lib/server/outcome';
import type { Db } from '$lib/server/db';
import { blocks, friendships, rooms, users } from '$shared/db/schema';
import { directKeyOf } from '$lib/server/rooms/direct-rooms';
import { personColumns, type PersonSummary } from './friends';
import { countIncomingRequests } from '$shared/db/friends';
import {
	disconnectFromRoom,
	notifyUser,
	unlinkContacts,
	type Realtime
} from '$lib/server/realtime/effects';

export async function blockUser(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done> {
	const decision = decidePerson(await loadPersonAccess(db, userId, personId), 'block');
	if (!decision.ok) return decision;
	const pair = pairOf(userId, personId);
	const [, , direct] = await db.batch([
		db
			.insert(blocks)
			.values({ blockerId: userId, blockedId: personId, createdAt: Date.now() })
			.onConflictDoNothing(),
		db
			.delete(friendships)
			.where(and(eq(friendships.userLow, pair.userLow), eq(friendships.userHigh, pair.userHigh))),
		db
			.select({ id: rooms.id })
			.from(rooms)
			.where(eq(rooms.directKey, directKeyOf(userId, personId)))
			.limit(1)
	]);
	const roomId = direct[0]?.id;
	if (roomId) {
		// Both sides: the blocked person loses the conversation, and the blocker can't keep talking
		// into a conversation the other can no longer read.
		await Promise.all([
			disconnectFromRoom(rt, roomId, personId),
			disconnectFromRoom(rt, roomId, userId)
		]);
	}
	await unlinkContacts(rt, userId, personId);
	const [mine, theirs] = await Promise.all([
		countIncomingRequests(db, userId),
		countIncomingRequests(db, personId)
	]);
	await Promise.all([
		notifyUser(rt, userId, { type: 'requests', incoming: mine }),
		notifyUser(rt, personId, { type: 'requests', incoming: theirs }),
		notifyUser(rt, userId, { type: 'friends' }),
		notifyUser(rt, personId, { type: 'friends' }),
		...(roomId
			? [
					notifyUser(rt, userId, { type: 'membership', roomId, change: 'updated' }),
					notifyUser(rt, personId, { type: 'membership', roomId, change: 'updated' })
				]
			: [])
	]);
	return { ok: true };
}

export async function unblockUser(
	db: Db,
	rt: Realtime,
	userId: string,
	personId: string
): Promise<Done> {
	const removed = await db
		.delete(blocks)
		.where(and(eq(blocks.blockerId, userId), eq(blocks.blockedId, personId)))
		.returning({ blockedId: blocks.blockedId });
	if (removed.length === 0) {
		return { ok: false, status: 404, code: 'not_blocked', message: 'You have not blocked them.' };
	}
	await Promise.all([
		notifyUser(rt, userId, { type: 'friends' }),
		notifyUser(rt, personId, { type: 'friends' })
	]);
	return { ok: true };
}

/** The people I blocked, for the list where I can unblock them. */
export async function listBlocked(db: Db, userId: string): Promise<PersonSummary[]> {
	return db
		.select(personColumns)
		.from(blocks)
		.innerJoin(users, eq(users.id, blocks.blockedId))
		.where(eq(blocks.blockerId, userId))
		.orderBy(asc(users.usernameKey));
}
