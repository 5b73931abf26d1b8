// The notifications inbox: what happened that concerns a person, newest first, with its read state
// kept in D1 and the unread count kept live in their tabs through the user hub. The room's flush
// writes the items about messages (mentions, replies, direct messages); this module writes the ones
// the app makes happen (friend requests and answers, being added to a group), lists them all and
// marks them read.
import { and, desc, eq, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import type { Db } from '$lib/server/db';
import { blocks, memberships, notifications, rooms, users } from '$shared/db/schema';
import { countUnreadNotifications, stillShown } from '$shared/db/notifications';
import { countLine } from '$shared/notify';
import { accessOf, decideRoom, membershipOf, roomAccessColumns } from '$lib/server/rooms/authz';
import { peerMembership, peerMembershipOf, type RoomKind } from '$lib/server/rooms/rooms';
import { DELETED_USER_NAME } from '$lib/server/rooms/history';
import { generateId } from '$lib/server/ids';
import { parseTimeCursor, timeCursorOf } from '$lib/server/time-cursor';

/** A cursor as `listInbox` makes it, or null for anything else. */
export const parseCursor = parseTimeCursor;
import { notifyUser, type Realtime } from '$lib/server/realtime/effects';

/** Items per page of the inbox. */
export const INBOX_PAGE_SIZE = 30;

/** At most this many ids are marked read in one request (D1 binds at most 100 values a statement). */
export const MAX_READ_IDS = 50;

export type NotificationKind = (typeof notifications.$inferSelect)['kind'];

export type InboxItem = {
	id: string;
	kind: NotificationKind;
	/** Where opening it goes: the message in its room, the room, the friends page or a profile. */
	url: string;
	/** What happened, in words: "Ann mentioned you in Lobby", "3 new messages from Ann". */
	summary: string;
	actor: { id: string; username: string; displayName: string } | null;
	/** The room it is about; a direct room is named after the other person. */
	room: { id: string; name: string; kind: RoomKind } | null;
	seq: number | null;
	preview: string;
	count: number;
	/** When it last changed (ms). */
	at: number;
	unread: boolean;
};

export type InboxPage = { items: InboxItem[]; nextCursor: string | null };

/**
 * One page of the person's inbox, newest change first. The cursor is the last item's change time
 * and id, so items that change while someone pages (a direct conversation brought back to the top)
 * never shift a page onto one already seen; an item so brought back is seen on the first page.
 * Items of rooms the person may no longer read, and items about someone with a block between them,
 * are left out (`stillShown`, then the room rule itself on each row).
 */
export async function listInbox(
	db: Db,
	userId: string,
	cursor: string | null = null,
	limit = INBOX_PAGE_SIZE
): Promise<InboxPage> {
	const after = cursor === null ? null : parseTimeCursor(cursor);
	const rows = await selectItems(
		db,
		userId,
		after
			? or(
					lt(notifications.updatedAt, after.at),
					and(eq(notifications.updatedAt, after.at), lt(notifications.id, after.id))
				)
			: undefined,
		limit + 1
	);
	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		items: page.filter(mayRead(userId)).map(toItem),
		nextCursor:
			rows.length > limit && last ? timeCursorOf({ at: last.updatedAt, id: last.id }) : null
	};
}

/**
 * Opens one of the person's items: marks it read and answers where it goes, or null when it is not
 * theirs to see (someone else's, gone, or of a room they may no longer read).
 */
export async function openInboxItem(
	db: Db,
	rt: Realtime,
	userId: string,
	id: string
): Promise<string | null> {
	const [row] = await selectItems(db, userId, eq(notifications.id, id), 1);
	if (!row || !mayRead(userId)(row)) return null;
	if (row.readAt === null) await markInboxRead(db, rt, userId, { ids: [id] });
	return toItem(row).url;
}

/** The person's items that `where` picks, newest first, with all that shows them. */
function selectItems(db: Db, userId: string, where: SQL | undefined, limit: number) {
	const actor = alias(users, 'actor');
	const peer = alias(users, 'peer');
	return db
		.select({
			id: notifications.id,
			kind: notifications.kind,
			roomId: notifications.roomId,
			seq: notifications.seq,
			preview: notifications.preview,
			count: notifications.count,
			updatedAt: notifications.updatedAt,
			readAt: notifications.readAt,
			actorId: actor.id,
			actorUsername: actor.username,
			actorName: actor.displayName,
			peerName: peer.displayName,
			...roomAccessColumns(userId)
		})
		.from(notifications)
		.leftJoin(actor, eq(actor.id, notifications.actorId))
		.leftJoin(rooms, eq(rooms.id, notifications.roomId))
		.leftJoin(memberships, membershipOf(userId))
		.leftJoin(peerMembership, peerMembershipOf(userId))
		.leftJoin(peer, eq(peer.id, peerMembership.userId))
		.where(and(eq(notifications.userId, userId), stillShown(), where))
		.orderBy(desc(notifications.updatedAt), desc(notifications.id))
		.limit(limit);
}

type SelectedRow = Awaited<ReturnType<typeof selectItems>>[number];

/** The room rule itself, over what `selectItems` read (its SQL already leaves out most). */
function mayRead(userId: string) {
	return (row: SelectedRow) => row.roomId === null || decideRoom(accessOf(userId, row), 'read').ok;
}

function toItem(row: SelectedRow): InboxItem {
	const actor =
		row.actorId !== null && row.actorUsername !== null && row.actorName !== null
			? { id: row.actorId, username: row.actorUsername, displayName: row.actorName }
			: null;
	const who = actor?.displayName ?? DELETED_USER_NAME;
	const room = row.room
		? {
				id: row.room.id,
				kind: row.room.kind,
				name: row.room.kind === 'direct' ? (row.peerName ?? DELETED_USER_NAME) : row.room.name
			}
		: null;
	return {
		id: row.id,
		kind: row.kind,
		url: urlOf(row, actor),
		summary: summaryOf(row.kind, who, room, row.count),
		actor,
		room,
		seq: row.seq,
		preview: row.preview,
		count: row.count,
		at: row.updatedAt,
		unread: row.readAt === null
	};
}

function urlOf(row: SelectedRow, actor: InboxItem['actor']): string {
	switch (row.kind) {
		case 'friend_request':
			return '/friends';
		case 'friend_accepted':
			return actor ? `/u/${encodeURIComponent(actor.username)}` : '/friends';
		case 'webhook_disabled':
			return row.roomId === null ? '/notifications' : `/rooms/${row.roomId}/details?tab=bots`;
		default:
			if (row.roomId === null) return '/notifications';
			return row.seq === null ? `/rooms/${row.roomId}` : `/rooms/${row.roomId}?m=${row.seq}`;
	}
}

function summaryOf(
	kind: NotificationKind,
	who: string,
	room: InboxItem['room'],
	count: number
): string {
	// In a direct conversation the room is the other person: "in Ann" would say it twice.
	const where = room && room.kind !== 'direct' ? ` in ${room.name}` : '';
	switch (kind) {
		case 'mention':
			return `${who} mentioned you${where}`;
		case 'reply':
			return `${who} replied to you${where}`;
		case 'direct':
			return count > 1 ? `${countLine(count)} from ${who}` : `New message from ${who}`;
		case 'friend_request':
			return `${who} sent you a friend request`;
		case 'friend_accepted':
			return `${who} accepted your friend request`;
		case 'group_added':
			return `${who} added you to ${room?.name ?? 'a group'}`;
		case 'webhook_disabled':
			return `The outgoing webhook of ${who}${where} was turned off after failing`;
	}
}

/** What the app itself puts in someone's inbox: friend events and being added to a room. */
export type InboxEvent =
	| { kind: 'friend_request' | 'friend_accepted'; userId: string; actorId: string }
	| { kind: 'group_added'; userId: string; actorId: string; roomId: string };

/**
 * Puts an item in the person's inbox, or brings an earlier one of the same key back to the top,
 * unread (a second request after a decline is news again). Never about someone with a block
 * between them: the check is in the same statement as the write, so a block made meanwhile wins.
 * Then their tabs hear the new count.
 */
export async function addToInbox(db: Db, rt: Realtime, event: InboxEvent): Promise<void> {
	const roomId = event.kind === 'group_added' ? event.roomId : null;
	const key = `${event.kind}:${roomId ?? event.actorId}`;
	const now = Date.now();
	const result = await db.run(sql`INSERT INTO ${notifications}
		(id, user_id, kind, key, room_id, actor_id, preview, count, created_at, updated_at, read_at)
		SELECT ${generateId()}, ${event.userId}, ${event.kind}, ${key}, ${roomId}, ${event.actorId},
			'', 1, ${now}, ${now}, NULL
		WHERE NOT EXISTS (SELECT 1 FROM ${blocks} WHERE
			(${blocks.blockerId} = ${event.userId} AND ${blocks.blockedId} = ${event.actorId})
			OR (${blocks.blockerId} = ${event.actorId} AND ${blocks.blockedId} = ${event.userId}))
		ON CONFLICT (user_id, key) DO UPDATE SET actor_id = excluded.actor_id,
			room_id = excluded.room_id, count = 1, updated_at = excluded.updated_at, read_at = NULL`);
	if (result.meta.changes > 0) await announceInbox(db, rt, event.userId);
}

/** Tells the person's open tabs their inbox's unread count, and answers it. */
export async function announceInbox(db: Db, rt: Realtime, userId: string): Promise<number> {
	const unread = await countUnreadNotifications(db, userId);
	await notifyUser(rt, userId, { type: 'inbox', unread });
	return unread;
}

/** Which items to mark read: some by id, all of them, those of one room, or one by its key. */
export type ReadTarget = { ids: string[] } | { all: true } | { roomId: string } | { key: string };

/**
 * Marks the person's items read and answers their unread count. Only their own items change:
 * an id of someone else's item matches nothing. Their tabs hear of it when anything changed.
 */
export async function markInboxRead(
	db: Db,
	rt: Realtime,
	userId: string,
	target: ReadTarget
): Promise<number> {
	const which =
		'ids' in target
			? target.ids.length > 0
				? inArray(notifications.id, target.ids)
				: sql`0`
			: 'roomId' in target
				? eq(notifications.roomId, target.roomId)
				: 'key' in target
					? eq(notifications.key, target.key)
					: undefined;
	const changed = await db
		.update(notifications)
		.set({ readAt: Date.now() })
		.where(and(eq(notifications.userId, userId), isNull(notifications.readAt), which))
		.returning({ id: notifications.id });
	if (changed.length === 0) return countUnreadNotifications(db, userId);
	return announceInbox(db, rt, userId);
}

/**
 * Opening a room reads what the inbox says about it. Most openings have nothing unread there, so
 * they cost one read of the unread index and no write at all.
 */
export async function markRoomRead(
	db: Db,
	rt: Realtime,
	userId: string,
	roomId: string
): Promise<void> {
	const [unread] = await db
		.select({ id: notifications.id })
		.from(notifications)
		.where(
			and(
				eq(notifications.userId, userId),
				isNull(notifications.readAt),
				eq(notifications.roomId, roomId)
			)
		)
		.limit(1);
	if (unread) await markInboxRead(db, rt, userId, { roomId });
}
