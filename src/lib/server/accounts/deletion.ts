import { and, asc, eq, inArray, isNotNull, ne, or, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import {
	blocks,
	files,
	friendships,
	knownDevices,
	memberships,
	notifications,
	oauthAccounts,
	apiTokens,
	pushSubscriptions,
	rooms,
	sessions,
	uploads,
	userTokens,
	users
} from '$shared/db/schema';
import { DELETED_USER_NAME } from '$lib/server/rooms/history';
import { roomStub } from '$shared/objects';
import { friendshipsOf, listFriendIds } from '$shared/db/friends';
import {
	applyRole,
	disconnectFromRoom,
	postSystemMessage,
	unlinkContacts,
	type Realtime
} from '$lib/server/realtime/effects';

/**
 * Deletes an account: personal data is erased and every way in is closed, in one D1 transaction.
 * The row itself stays, blanked, with `deleted_at` set: messages keep pointing at it, and history
 * shows them as from "Deleted user". Memberships go (room counts follow), so does the social graph.
 * A room the person owned passes to its longest-standing admin, or else its longest-standing
 * member, so no group is left without anyone who can administer it.
 *
 * The person's uploads go too (a room icon they set stays: it is the room's). Their rows cannot be deleted here (a row is the only record of
 * where its bytes are in R2), so they lose their room in the same batch: from then on they are
 * served to nobody (`/files/<id>` answers 404), and the realtime worker's cleanup job deletes
 * their objects and rows on its next run. Messages that carried them lose them afterwards, in
 * each room that had any: the room's copy of a message is the authority (a flush would write it
 * back over any change made to D1's copy here), so the room strips them (`dropUploads`).
 */
export async function deleteAccount(db: Db, userId: string, realtime: Realtime): Promise<void> {
	const joined = await db
		.select({ roomId: memberships.roomId, role: memberships.role })
		.from(memberships)
		.where(eq(memberships.userId, userId));
	const roomIds = joined.map((m) => m.roomId);
	const successors = await findSuccessors(
		db,
		userId,
		joined.filter((m) => m.role === 'owner').map((m) => m.roomId)
	);
	const friendIds = await listFriendIds(db, userId);
	// The rooms the person's attachments were shared with, read before the batch below takes the
	// files out of their rooms. Any upload counts, attached in D1 or not: the room attaches a file
	// in its own storage at once, and D1 hears of it only with the flush.
	const uploadRooms = await db
		.selectDistinct({ roomId: files.roomId })
		.from(files)
		.where(
			and(eq(files.uploaderId, userId), eq(files.purpose, 'attachment'), isNotNull(files.roomId))
		);
	const gone = { id: userId, displayName: DELETED_USER_NAME, username: `deleted-${userId}` };

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
		db.delete(knownDevices).where(eq(knownDevices.userId, userId)),
		db.delete(notifications).where(eq(notifications.userId, userId)),
		db.delete(pushSubscriptions).where(eq(pushSubscriptions.userId, userId)),
		db.delete(apiTokens).where(eq(apiTokens.userId, userId)),
		db.delete(friendships).where(friendshipsOf(userId)),
		db.delete(blocks).where(or(eq(blocks.blockerId, userId), eq(blocks.blockedId, userId))),
		// A room's icon is the room's, whoever set it: it stays while the room names it.
		db
			.update(files)
			.set({ roomId: null })
			.where(and(eq(files.uploaderId, userId), ne(files.purpose, 'icon'))),
		// Uploads in parts not finished: the cleanup job aborts them on its next run.
		db.update(uploads).set({ roomId: null }).where(eq(uploads.uploaderId, userId)),
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
		db.delete(memberships).where(eq(memberships.userId, userId)),
		...successors.map((s) =>
			db
				.update(memberships)
				.set({ role: 'owner' })
				.where(and(eq(memberships.roomId, s.roomId), eq(memberships.userId, s.userId)))
		)
	]);

	// Open tabs lose their sockets now rather than at their next reconnect, and former friends stop
	// seeing a presence. Best effort: D1 already says the account is gone, so whatever can't be
	// reached now refuses the person at the door on reconnect anyway.
	// The rooms also strip the person's files from their messages and delete them. Best effort too:
	// the files are served to nobody already, and a room that cannot be reached now leaves its
	// bytes to the cleanup job, which deletes every room-less file; only the dead entries would
	// stay in its messages.
	await Promise.allSettled([
		...roomIds.map((roomId) => disconnectFromRoom(realtime, roomId, userId)),
		...uploadRooms.map(({ roomId }) => roomStub(realtime.rooms, roomId!).dropUploads(userId)),
		...friendIds.map((friendId) => unlinkContacts(realtime, userId, friendId)),
		...successors.map(async (s) => {
			await applyRole(realtime, s.roomId, s.userId, 'owner');
			// The line follows from the account's going: it is the one who did it, and is gone.
			await postSystemMessage(realtime, s.roomId, gone, `${s.displayName} is now the owner`, {
				left: true
			});
		})
	]);
}

type Successor = { roomId: string; userId: string; displayName: string };

/** Who takes over each room: none if another owner remains or no one is left; else the
 * longest-standing admin, else the longest-standing member. */
async function findSuccessors(db: Db, ownerId: string, roomIds: string[]): Promise<Successor[]> {
	const found = await Promise.all(
		roomIds.map(async (roomId) => {
			const [next] = await db
				.select({
					userId: memberships.userId,
					displayName: users.displayName,
					role: memberships.role
				})
				.from(memberships)
				.innerJoin(users, eq(users.id, memberships.userId))
				.where(and(eq(memberships.roomId, roomId), ne(memberships.userId, ownerId)))
				.orderBy(
					sql`CASE ${memberships.role} WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END`,
					asc(memberships.joinedAt)
				)
				.limit(1);
			// Another owner already administers it: nothing to hand over.
			if (!next || next.role === 'owner') return null;
			return { roomId, userId: next.userId, displayName: next.displayName };
		})
	);
	return found.filter((s) => s !== null);
}
