import { drizzle } from 'drizzle-orm/d1';
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { parseStoredAttachments } from '../../../shared/protocol';
import { files, memberships, messages, rooms } from '../../../shared/db/schema';

export type FlushRow = {
	seq: number;
	/** The room's version of the row being copied; not stored in D1. */
	version: number;
	clientId: string;
	senderId: string | null;
	kind: 'text' | 'system';
	body: string;
	replyToSeq: number | null;
	/** JSON, as D1 stores it. */
	mentions: string;
	reactions: string;
	createdAt: number;
	editedAt: number | null;
	deletedAt: number | null;
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
 * message carries get its seq (`files.message_seq`) in the same transaction.
 */
export async function flushToD1(
	db: D1Database,
	roomId: string,
	rows: FlushRow[],
	reads: ReadPosition[],
	summary: RoomRow | null
): Promise<void> {
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
	for (const { version: _version, ...row } of rows) {
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
						attachments: sql`excluded.attachments`
					}
				})
		);
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
	const [first, ...rest] = statements;
	if (!first) return;
	await orm.batch([first, ...rest]);
}
