import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Db } from './db';
import {
	blocks,
	friendships,
	memberships,
	oauthAccounts,
	rooms,
	sessions,
	userTokens,
	users
} from './db/schema';
import { DELETED_USER_NAME } from './history';
import { disconnectFromRoom, unlinkContacts, type Realtime } from './realtime-effects';

/**
 * Deletes an account: personal data is erased and every way in is closed, in one D1 transaction.
 * The row itself stays, blanked, with `deleted_at` set: messages keep pointing at it, and history
 * shows them as from "Deleted user". Memberships go (room counts follow), so does the social graph.
 */
export async function deleteAccount(db: Db, userId: string, realtime: Realtime): Promise<void> {
	const joined = await db
		.select({ roomId: memberships.roomId })
		.from(memberships)
		.where(eq(memberships.userId, userId));
	const roomIds = joined.map((m) => m.roomId);
	const friends = await db
		.select({ low: friendships.userLow, high: friendships.userHigh })
		.from(friendships)
		.where(
			and(
				eq(friendships.status, 'accepted'),
				or(eq(friendships.userLow, userId), eq(friendships.userHigh, userId))
			)
		);
	const friendIds = friends.map((f) => (f.low === userId ? f.high : f.low));

	await db.batch([
		db
			.update(users)
			.set({
				// Unique placeholders no one can register: ids are not valid usernames or addresses.
				email: `${userId}@deleted.invalid`,
				emailVerifiedAt: null,
				username: `deleted-${userId}`,
				usernameKey: `deleted-${userId}`,
				displayName: DELETED_USER_NAME,
				passwordHash: null,
				bio: '',
				statusText: '',
				avatarKey: null,
				deletedAt: Date.now()
			})
			.where(eq(users.id, userId)),
		db.delete(sessions).where(eq(sessions.userId, userId)),
		db.delete(userTokens).where(eq(userTokens.userId, userId)),
		db.delete(oauthAccounts).where(eq(oauthAccounts.userId, userId)),
		db
			.delete(friendships)
			.where(or(eq(friendships.userLow, userId), eq(friendships.userHigh, userId))),
		db.delete(blocks).where(or(eq(blocks.blockerId, userId), eq(blocks.blockedId, userId))),
		db
			.update(rooms)
			.set({ memberCount: sql`max(${rooms.memberCount} - 1, 0)` })
			.where(
				inArray(
					rooms.id,
					db
						.select({ roomId: memberships.roomId })
						.from(memberships)
						.where(eq(memberships.userId, userId))
				)
			),
		db.delete(memberships).where(eq(memberships.userId, userId))
	]);

	// Open tabs lose their sockets now rather than at their next reconnect, and former friends stop
	// seeing a presence. Best effort: D1 already says the account is gone, so whatever can't be
	// reached now refuses the person at the door on reconnect anyway.
	await Promise.allSettled([
		...roomIds.map((roomId) => disconnectFromRoom(realtime, roomId, userId)),
		...friendIds.map((friendId) => unlinkContacts(realtime, userId, friendId))
	]);
}
