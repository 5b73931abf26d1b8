import { drizzle } from 'drizzle-orm/d1';
import { and, eq, lt, sql } from 'drizzle-orm';
import { messages, rooms } from '../../../src/lib/server/db/schema';

export type FlushRow = {
	seq: number;
	clientId: string;
	senderId: string | null;
	kind: 'text' | 'system';
	body: string;
	createdAt: number;
};

const PREVIEW_LENGTH = 140;

/**
 * Copies a batch of the room's messages to D1 in one transaction. Idempotent: a row that is already
 * there (a retried flush) is updated in place on `(room_id, seq)`, never duplicated.
 */
export async function flushToD1(db: D1Database, roomId: string, rows: FlushRow[]): Promise<void> {
	const orm = drizzle(db);
	const last = rows.reduce((a, b) => (b.seq > a.seq ? b : a));
	const upserts = rows.map((row) =>
		orm
			.insert(messages)
			.values({ roomId, ...row })
			.onConflictDoUpdate({
				target: [messages.roomId, messages.seq],
				set: { body: sql`excluded.body` }
			})
	);
	const touchRoom = orm
		.update(rooms)
		.set({
			lastMessageSeq: last.seq,
			lastMessageAt: last.createdAt,
			lastMessagePreview: last.body.slice(0, PREVIEW_LENGTH)
		})
		.where(and(eq(rooms.id, roomId), lt(rooms.lastMessageSeq, last.seq)));
	await orm.batch([touchRoom, ...upserts]);
}
