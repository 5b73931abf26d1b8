import { and, asc, desc, eq, gt, lt } from 'drizzle-orm';
import type { ChatMessage } from '$lib/protocol';
import type { Db } from './db';
import { messages, users } from './db/schema';

export const HISTORY_PAGE_SIZE = 50;
export const DELETED_USER_NAME = 'Deleted user';

export type HistoryCursor = { before?: number; after?: number };
export type HistoryPage = { messages: ChatMessage[]; hasMore: boolean };

/** What the history needs of the room object: the messages D1 may not have yet. */
export type UnflushedSource = {
	unflushed(range: { before?: number; after?: number; limit: number }): Promise<ChatMessage[]>;
};

/**
 * One page of a room's history in `seq` order: D1's rows merged with the room object's
 * not-yet-flushed tail (the object's copy wins), so a page is right even while the flush lags.
 * `after` pages forwards from a seq; otherwise the page ends before `before` (or at the newest).
 */
export async function readHistory(
	db: Db,
	room: UnflushedSource,
	roomId: string,
	cursor: HistoryCursor,
	limit = HISTORY_PAGE_SIZE
): Promise<HistoryPage> {
	const forward = cursor.after !== undefined;
	const range = and(
		eq(messages.roomId, roomId),
		cursor.after !== undefined ? gt(messages.seq, cursor.after) : undefined,
		cursor.before !== undefined ? lt(messages.seq, cursor.before) : undefined
	);
	const [stored, tail] = await Promise.all([
		db
			.select({
				seq: messages.seq,
				clientId: messages.clientId,
				senderId: messages.senderId,
				senderName: users.displayName,
				senderDeletedAt: users.deletedAt,
				kind: messages.kind,
				body: messages.body,
				createdAt: messages.createdAt
			})
			.from(messages)
			.leftJoin(users, eq(users.id, messages.senderId))
			.where(range)
			.orderBy(forward ? asc(messages.seq) : desc(messages.seq))
			.limit(limit + 1),
		room.unflushed({ ...cursor, limit: limit + 1 })
	]);

	const bySeq = new Map<number, ChatMessage>();
	for (const { senderDeletedAt, senderName, ...row } of stored) {
		bySeq.set(row.seq, {
			...row,
			senderName:
				row.kind === 'system'
					? ''
					: senderDeletedAt !== null || senderName === null
						? DELETED_USER_NAME
						: senderName
		});
	}
	for (const message of tail) bySeq.set(message.seq, message);

	const merged = [...bySeq.values()].sort((a, b) => (forward ? a.seq - b.seq : b.seq - a.seq));
	const page = merged.slice(0, limit);
	if (!forward) page.reverse();
	return { messages: page, hasMore: merged.length > limit };
}
