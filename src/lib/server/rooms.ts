import { and, desc, eq, sql } from 'drizzle-orm';
import type { ConversationSummary } from '$lib/conversations';
import type { Db } from './db';
import { memberships, rooms } from './db/schema';
import { generateId } from './ids';

export type Room = typeof rooms.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type RoomKind = Room['kind'];
export type Role = Membership['role'];

export const MAX_ROOM_NAME_LENGTH = 80;

export async function createRoom(
	db: Db,
	input: { kind: RoomKind; name: string; description?: string; createdBy: string }
): Promise<Room> {
	const now = Date.now();
	const room: Room = {
		id: generateId(),
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
		memberCount: 1
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

/** Adds a member; joining twice is a no-op. */
export async function grantMembership(
	db: Db,
	roomId: string,
	userId: string,
	role: Role = 'member'
): Promise<void> {
	const inserted = await db
		.insert(memberships)
		.values({ roomId, userId, role, joinedAt: Date.now() })
		.onConflictDoNothing()
		.returning({ userId: memberships.userId });
	if (inserted.length > 0) {
		await db
			.update(rooms)
			.set({ memberCount: sql`${rooms.memberCount} + 1` })
			.where(eq(rooms.id, roomId));
	}
}

/** The rooms a user belongs to, most recently active first: the sidebar. */
export async function listConversations(db: Db, userId: string): Promise<ConversationSummary[]> {
	const rows = await db
		.select({
			id: rooms.id,
			kind: rooms.kind,
			name: rooms.name,
			lastMessageAt: rooms.lastMessageAt,
			lastMessagePreview: rooms.lastMessagePreview,
			lastMessageSeq: rooms.lastMessageSeq,
			lastReadSeq: memberships.lastReadSeq,
			pinned: memberships.pinned,
			archived: memberships.archived,
			notify: memberships.notify
		})
		.from(memberships)
		.innerJoin(rooms, eq(rooms.id, memberships.roomId))
		.where(eq(memberships.userId, userId))
		.orderBy(desc(sql`coalesce(${rooms.lastMessageAt}, ${rooms.createdAt})`));
	return rows.map(({ lastReadSeq, ...row }) => ({
		...row,
		peer: null,
		unread: Math.max(0, row.lastMessageSeq - lastReadSeq)
	}));
}
