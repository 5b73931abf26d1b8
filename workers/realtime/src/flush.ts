import { drizzle } from 'drizzle-orm/d1';
import { and, eq, lte, sql } from 'drizzle-orm';
import { plainPreview } from '../../../shared/preview';
import { memberships, messages, rooms } from '../../../shared/db/schema';

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
};

export type ReadPosition = { userId: string; readSeq: number };

/**
 * Copies a batch of the room's messages and members' read positions to D1 in one transaction.
 * Idempotent: a row that is already there (a retried flush) is updated in place on
 * `(room_id, seq)`, never duplicated, and a read position only ever moves forward.
 */
export async function flushToD1(
	db: D1Database,
	roomId: string,
	rows: FlushRow[],
	reads: ReadPosition[]
): Promise<void> {
	const orm = drizzle(db);
	const statements = [];
	if (rows.length > 0) {
		const last = rows.reduce((a, b) => (b.seq > a.seq ? b : a));
		// `lte`, not `lt`: an edit or deletion of the newest message must refresh the preview.
		statements.push(
			orm
				.update(rooms)
				.set({
					lastMessageSeq: last.seq,
					lastMessageAt: last.createdAt,
					lastMessagePreview: plainPreview(last)
				})
				.where(and(eq(rooms.id, roomId), lte(rooms.lastMessageSeq, last.seq)))
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
						deletedAt: sql`excluded.deleted_at`
					}
				})
		);
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
