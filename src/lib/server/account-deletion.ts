import { eq, inArray, or, sql } from 'drizzle-orm';
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

/** What deletion needs of the room objects: closing the person's open sockets. */
export type RoomDisconnector = (roomId: string, userId: string) => Promise<unknown>;

/**
 * Deletes an account: personal data is erased and every way in is closed, in one D1 transaction.
 * The row itself stays, blanked, with `deleted_at` set: messages keep pointing at it, and history
 * shows them as from "Deleted user". Memberships go (room counts follow), so does the social graph.
 */
export async function deleteAccount(
	db: Db,
	userId: string,
	disconnect: RoomDisconnector
): Promise<void> {
	const joined = await db
		.select({ roomId: memberships.roomId })
		.from(memberships)
		.where(eq(memberships.userId, userId));
	const roomIds = joined.map((m) => m.roomId);

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

	// Open tabs lose their sockets now rather than at their next reconnect. Best effort: the
	// membership is already gone, so a room that can't be reached refuses them on reconnect anyway.
	await Promise.allSettled(roomIds.map((roomId) => disconnect(roomId, userId)));
}
