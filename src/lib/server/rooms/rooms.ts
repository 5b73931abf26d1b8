import { and, eq, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import { compareConversations, type ConversationSummary } from '$lib/conversations';
import type { Db } from '$lib/server/db';
import { blocks, memberships, rooms, users } from '$shared/db/schema';
import { generateId } from '$lib/server/ids';
import { pictureUrl } from '$lib/server/files/picture-url';

export type Room = typeof rooms.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type RoomKind = Room['kind'];
export type Role = Membership['role'];

export const MAX_ROOM_NAME_LENGTH = 80;

export async function createRoom(
	db: Db,
	input: {
		/** Made by the caller when the room object must hear of the room first. */
		id?: string;
		kind: RoomKind;
		name: string;
		description?: string;
		createdBy: string;
		/** End-to-end encrypted (docs/e2ee.md): the caller has told the room object first. */
		encryption?: Room['encryption'];
	}
): Promise<Room> {
	const now = Date.now();
	const room: Room = {
		id: input.id ?? generateId(),
		kind: input.kind,
		name: input.name,
		description: input.description ?? '',
		iconKey: null,
		directKey: null,
		createdBy: input.createdBy,
		createdAt: now,
		lastMessageAt: null,
		lastMessageSeq: 0,
		lastMessagePreview: '',
		memberCount: 1,
		slowModeSeconds: 0,
		retentionSeconds: null,
		// Given by the database as the row goes in (migration 0011); only search reads it.
		searchKey: null,
		encryption: input.encryption ?? null
	};
	await db.batch([
		db.insert(rooms).values(room),
		db.insert(memberships).values({
			roomId: room.id,
			userId: input.createdBy,
			role: 'owner',
			joinedAt: now
		})
	]);
	return room;
}

export async function getRoom(db: Db, roomId: string): Promise<Room | null> {
	const [room] = await db.select().from(rooms).where(eq(rooms.id, roomId)).limit(1);
	return room ?? null;
}

export async function getMembership(
	db: Db,
	roomId: string,
	userId: string
): Promise<Membership | null> {
	const [row] = await db
		.select()
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
		.limit(1);
	return row ?? null;
}

/** Adds a member; joining twice is a no-op. Answers whether they were added just now. */
export async function grantMembership(
	db: Db,
	roomId: string,
	userId: string,
	role: Role = 'member'
): Promise<boolean> {
	const [inserted] = await db.batch([
		db
			.insert(memberships)
			.values({ roomId, userId, role, joinedAt: Date.now() })
			.onConflictDoNothing()
			.returning({ userId: memberships.userId }),
		syncMemberCount(db, roomId)
	]);
	return inserted.length > 0;
}

/** Recounts instead of adding one, so a count can't drift when a change races another. */
export function syncMemberCount(db: Db, roomId: string) {
	return db
		.update(rooms)
		.set({
			memberCount: sql`(SELECT count(*) FROM ${memberships} WHERE ${memberships.roomId} = ${roomId})`
		})
		.where(eq(rooms.id, roomId));
}

/** The other person's membership of a direct room, for a left join over `rooms`. */
export const peerMembership = alias(memberships, 'peer_membership');

/** The join condition for `peerMembership`: matches nothing for a room that is not direct. */
export function peerMembershipOf(userId: string) {
	return and(
		eq(rooms.kind, 'direct'),
		eq(peerMembership.roomId, rooms.id),
		ne(peerMembership.userId, userId)
	);
}

/**
 * The rooms a user belongs to: the sidebar, in its order (`compareConversations`). Direct rooms
 * are named after the other person (`peer`); a direct room shut by a block, either way, is left
 * out. One query, whatever the number of rooms.
 */
export async function listConversations(db: Db, userId: string): Promise<ConversationSummary[]> {
	const activeAt = sql<number>`coalesce(${rooms.lastMessageAt}, ${rooms.createdAt})`;
	const rows = await db
		.select({
			id: rooms.id,
			kind: rooms.kind,
			name: rooms.name,
			lastMessageAt: rooms.lastMessageAt,
			activeAt,
			lastMessagePreview: rooms.lastMessagePreview,
			lastMessageSeq: rooms.lastMessageSeq,
			lastReadSeq: memberships.lastReadSeq,
			pinned: memberships.pinned,
			archived: memberships.archived,
			notify: memberships.notify,
			peerId: users.id,
			peerUsername: users.username,
			peerDisplayName: users.displayName,
			iconKey: rooms.iconKey,
			peerAvatarKey: users.avatarKey,
			encryption: rooms.encryption
		})
		.from(memberships)
		.innerJoin(rooms, eq(rooms.id, memberships.roomId))
		.leftJoin(peerMembership, peerMembershipOf(userId))
		.leftJoin(users, eq(users.id, peerMembership.userId))
		.where(
			and(
				eq(memberships.userId, userId),
				sql`NOT EXISTS (SELECT 1 FROM ${blocks} WHERE
					(${blocks.blockerId} = ${userId} AND ${blocks.blockedId} = ${peerMembership.userId})
					OR (${blocks.blockerId} = ${peerMembership.userId} AND ${blocks.blockedId} = ${userId}))`
			)
		);
	const list = rows.map(({ lastReadSeq, peerId, peerUsername, peerDisplayName, ...rest }) => {
		const { iconKey, peerAvatarKey, encryption, ...row } = rest;
		const peer =
			peerId && peerUsername !== null && peerDisplayName !== null
				? { id: peerId, username: peerUsername, displayName: peerDisplayName }
				: null;
		return {
			...row,
			name: row.kind === 'direct' ? (peer?.displayName ?? 'Deleted user') : row.name,
			peer,
			picture: pictureUrl(row.kind === 'direct' ? peerAvatarKey : iconKey),
			unread: Math.max(0, row.lastMessageSeq - lastReadSeq),
			encrypted: encryption === 'mls'
		};
	});
	// In the browser's order, by the same rule its live list keeps.
	return list.sort(compareConversations);
}
