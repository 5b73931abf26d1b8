import { drizzle } from 'drizzle-orm/d1';
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { messageDeletionAuditId } from '../../../shared/audit';
import { parseStoredAttachments, type MessageKind } from '../../../shared/protocol';
import {
	auditLog,
	files,
	memberships,
	messages,
	notifications,
	rooms
} from '../../../shared/db/schema';
import type { InboxItem } from './inbox-items';

export type FlushRow = {
	seq: number;
	/** The room's version of the row being copied; not stored in D1. */
	version: number;
	/** Never copied before (D1 may still have it, from a flush whose end the room never saw). */
	isNew: boolean;
	/** The author of the message this one replies to; not stored in D1 (it has `replyToSeq`). */
	repliedTo: string | null;
	clientId: string;
	senderId: string | null;
	kind: MessageKind;
	body: string;
	replyToSeq: number | null;
	/** JSON, as D1 stores it. */
	mentions: string;
	reactions: string;
	createdAt: number;
	editedAt: number | null;
	deletedAt: number | null;
	/** Who deleted it, when not its sender (an admin's removal, audited as the flush copies it). */
	deletedBy: string | null;
	/** Deleted for outliving the room's retention. */
	expired: boolean;
	/** JSON of the files it carries; null for none, and once deleted. */
	attachments: string | null;
};

export type ReadPosition = { userId: string; readSeq: number };

/**
 * The conversation's row: the newest message's seq and time, and the preview of the newest message
 * still there (a deleted newest message leaves the one before it on show). `MessageStore` builds it.
 */
export type RoomRow = { seq: number; at: number; preview: string };

/**
 * Copies a batch of the room's messages and members' read positions to D1 in one transaction.
 * Idempotent: a row that is already there (a retried flush) is updated in place on
 * `(room_id, seq)`, never duplicated, and a read position only ever moves forward. The files a
 * message carries get its seq (`files.message_seq`) in the same transaction, and so do the inbox
 * items the new messages make (`inbox-items.ts`). Answers who has an unread inbox item from it.
 */
export async function flushToD1(
	db: D1Database,
	roomId: string,
	rows: FlushRow[],
	reads: ReadPosition[],
	summary: RoomRow | null,
	inbox: InboxItem[] = []
): Promise<string[]> {
	const orm = drizzle(db);
	const statements = [];
	if (summary) {
		// `lte`, not `lt`: an edit or deletion at or below the newest message must refresh the
		// preview; a retried older flush never moves the row back.
		statements.push(
			orm
				.update(rooms)
				.set({
					lastMessageSeq: summary.seq,
					lastMessageAt: summary.at,
					lastMessagePreview: summary.preview
				})
				.where(and(eq(rooms.id, roomId), lte(rooms.lastMessageSeq, summary.seq)))
		);
	}
	for (const { version: _version, isNew: _isNew, repliedTo: _repliedTo, ...row } of rows) {
		statements.push(
			orm
				.insert(messages)
				.values({ roomId, ...row })
				.onConflictDoUpdate({
					target: [messages.roomId, messages.seq],
					set: {
						body: sql`excluded.body`,
						mentions: sql`excluded.mentions`,
						reactions: sql`excluded.reactions`,
						editedAt: sql`excluded.edited_at`,
						deletedAt: sql`excluded.deleted_at`,
						deletedBy: sql`excluded.deleted_by`,
						expired: sql`excluded.expired`,
						attachments: sql`excluded.attachments`
					}
				})
		);
		if (row.deletedAt !== null) {
			// A deleted or expired message's words go from the inbox too, not only from history.
			statements.push(
				orm
					.update(notifications)
					.set({ preview: '' })
					.where(and(eq(notifications.roomId, roomId), eq(notifications.seq, row.seq)))
			);
		}
		if (row.deletedBy !== null && row.deletedAt !== null) {
			// The audit log's entry for an admin's removal, written once: its id is the message's.
			statements.push(
				orm
					.insert(auditLog)
					.values({
						id: messageDeletionAuditId(roomId, row.seq),
						actorId: row.deletedBy,
						actorRole: 'room_admin',
						action: 'message.delete',
						targetKind: 'message',
						targetId: `${roomId}:${row.seq}`,
						roomId,
						details: JSON.stringify({ seq: row.seq, senderId: row.senderId }),
						createdAt: row.deletedAt
					})
					.onConflictDoNothing()
			);
		}
		const carried = parseStoredAttachments(row.attachments);
		if (carried) {
			// Only files of this room: an id is never trusted to name another room's file.
			statements.push(
				orm
					.update(files)
					.set({ messageSeq: row.seq })
					.where(
						and(
							eq(files.roomId, roomId),
							inArray(
								files.id,
								carried.map((file) => file.id)
							)
						)
					)
			);
		}
	}
	for (const read of reads) {
		statements.push(
			orm
				.update(memberships)
				.set({ lastReadSeq: sql`max(${memberships.lastReadSeq}, ${read.readSeq})` })
				.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, read.userId)))
		);
	}
	if (statements.length === 0) return [];
	// Built with drizzle, run as D1's own batch: drizzle cannot batch a raw statement (the inbox's).
	const batch = statements.map((statement) => {
		const query = statement.toSQL();
		return db.prepare(query.sql).bind(...query.params);
	});
	if (inbox.length > 0) batch.push(writeInbox(db, roomId, inbox));
	const results = await db.batch<{ user_id: string; read_at: number | null }>(batch);
	if (inbox.length === 0) return [];
	const written = results.at(-1)?.results ?? [];
	return [...new Set(written.filter((r) => r.read_at === null).map((r) => r.user_id))];
}

/**
 * One statement for the batch's inbox items, in order. A mention or reply has a key of its own
 * (`mention:<room>:<seq>`), so writing it again changes nothing; a direct conversation has one row
 * (`direct:<room>`) that a newer message updates: its count grows while unread and starts again
 * at one once read, and the `seq` guard makes a repeated flush of the same message change nothing.
 * D1 checks again that the person is still a member and has not blocked the author.
 */
function writeInbox(db: D1Database, roomId: string, items: InboxItem[]): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO notifications (id, user_id, kind, key, room_id, seq, actor_id, preview, count,
		                           created_at, updated_at, read_at)
		SELECT lower(hex(randomblob(12))), i.value ->> 'userId', i.value ->> 'kind',
		       i.value ->> 'key', ?1, i.value ->> 'seq', i.value ->> 'actorId',
		       i.value ->> 'preview', 1, i.value ->> 'at', i.value ->> 'at',
		       CASE WHEN i.value ->> 'read' THEN i.value ->> 'at' END
		  FROM json_each(?2) AS i
		 WHERE EXISTS (SELECT 1 FROM memberships m
		                WHERE m.room_id = ?1 AND m.user_id = i.value ->> 'userId')
		   AND NOT EXISTS (SELECT 1 FROM blocks b
		                    WHERE b.blocker_id = i.value ->> 'userId'
		                      AND b.blocked_id = i.value ->> 'actorId')
		ON CONFLICT (user_id, key) DO UPDATE SET
		       seq = excluded.seq, actor_id = excluded.actor_id, preview = excluded.preview,
		       updated_at = excluded.updated_at,
		       count = CASE WHEN notifications.read_at IS NULL THEN notifications.count + 1 ELSE 1 END,
		       read_at = excluded.read_at
		 WHERE excluded.kind = 'direct' AND excluded.seq > notifications.seq
		RETURNING user_id, read_at`
		)
		.bind(roomId, JSON.stringify(items));
}
