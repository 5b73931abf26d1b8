// Direct messages: exactly one room per pair of people, whoever opens it first.
import { eq } from 'drizzle-orm';
import { decidePerson, loadPersonAccess, pairOf } from './authz';
import type { Done } from '$lib/server/outcome';
import type { Db } from '$lib/server/db';
import { memberships, rooms, users } from '$shared/db/schema';
import { generateId } from '$lib/server/ids';
import type { Room } from './rooms';

/** Both ids, sorted and joined: unique in `rooms.direct_key`, so a pair can't get two rooms. */
export function directKeyOf(a: string, b: string): string {
	const { userLow, userHigh } = pairOf(a, b);
	return `${userLow}:${userHigh}`;
}

/**
 * The pair's direct room, created on first use. A new conversation needs the DM rule (friends, or
 * the recipient takes messages from everyone); an existing one reopens unless a block shut it.
 * Safe under concurrent creation: the room insert yields to the unique key, everyone reads back
 * the one room that holds it, and every caller makes sure of both memberships (idempotently)
 * before answering, so no one is sent to a room they are not yet a member of.
 */
export async function findOrCreateDirectRoom(
	db: Db,
	userId: string,
	personId: string
): Promise<Done<{ roomId: string; created: boolean }>> {
	const key = directKeyOf(userId, personId);
	const [access, existing] = await Promise.all([
		loadPersonAccess(db, userId, personId),
		db.select({ id: rooms.id }).from(rooms).where(eq(rooms.directKey, key)).limit(1)
	]);
	const decision = decidePerson(access, 'message');
	let roomId = existing[0]?.id;
	const reopening = roomId !== undefined && (decision.ok || decision.code === 'dm_not_allowed');
	if (!reopening && !decision.ok) return decision;

	let created = false;
	const now = Date.now();
	if (roomId === undefined) {
		const id = generateId();
		const [, stored] = await db.batch([
			db
				.insert(rooms)
				.values({
					id,
					kind: 'direct',
					name: '',
					directKey: key,
					createdBy: userId,
					createdAt: now,
					memberCount: 2
				})
				.onConflictDoNothing(),
			db.select({ id: rooms.id }).from(rooms).where(eq(rooms.directKey, key)).limit(1)
		]);
		roomId = stored[0]?.id;
		if (roomId === undefined) throw new Error('direct room missing after its insert');
		created = roomId === id;
	}
	await db
		.insert(memberships)
		.values([
			{ roomId, userId, role: 'member', joinedAt: now },
			{ roomId, userId: personId, role: 'member', joinedAt: now }
		])
		.onConflictDoNothing();
	return { ok: true, roomId, created };
}

/** A direct room has no name of its own: each side sees it named after the other person. */
export async function peerNameOf(db: Db, room: Room, userId: string): Promise<string> {
	if (room.kind !== 'direct' || !room.directKey) return room.name;
	const peerId = room.directKey.split(':').find((id) => id !== userId) ?? userId;
	const [peer] = await db
		.select({ displayName: users.displayName, deletedAt: users.deletedAt })
		.from(users)
		.where(eq(users.id, peerId))
		.limit(1);
	return peer && peer.deletedAt === null ? peer.displayName : 'Deleted user';
}
