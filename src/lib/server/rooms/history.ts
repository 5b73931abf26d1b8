import { and, asc, desc, eq, gt, inArray, lt } from 'drizzle-orm';
import * as v from 'valibot';
import { countParam } from '$lib/server/forms';
import { alias } from 'drizzle-orm/sqlite-core';
import {
	parseStoredAttachments,
	replyPreview,
	type ChatMessage,
	type MessageKind
} from '$shared/protocol';
import { parseMentionList, parseReactionMap } from '$shared/protocol/stored';
import type { Db } from '$lib/server/db';
import { messages, users } from '$shared/db/schema';

export const HISTORY_PAGE_SIZE = 50;
export const DELETED_USER_NAME = 'Deleted user';

export type HistoryCursor = { before?: number; after?: number };
export type HistoryPage = { messages: ChatMessage[]; hasMore: boolean };
/** A window of history around one message, for links to it. */
export type HistoryWindow = { messages: ChatMessage[]; hasOlder: boolean; hasNewer: boolean };

/** What the history needs of the room object: the messages D1 may not have yet. */
export type UnflushedSource = {
	unflushed(range: { before?: number; after?: number; limit: number }): Promise<ChatMessage[]>;
};

const replied = alias(messages, 'replied');
const repliedSender = alias(users, 'replied_sender');

/**
 * One page of a room's history in `seq` order: D1's rows merged with the room object's
 * not-yet-flushed tail (the object's copy wins), so a page is right even while the flush lags.
 * `after` pages forwards from a seq; otherwise the page ends before `before` (or at the newest).
 * Seq cursors keep pages stable while new messages arrive.
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
				senderKind: users.kind,
				kind: messages.kind,
				body: messages.body,
				createdAt: messages.createdAt,
				replyToSeq: messages.replyToSeq,
				mentions: messages.mentions,
				reactions: messages.reactions,
				editedAt: messages.editedAt,
				deletedAt: messages.deletedAt,
				deletedBy: messages.deletedBy,
				expired: messages.expired,
				attachments: messages.attachments,
				repliedBody: replied.body,
				repliedAttachments: replied.attachments,
				repliedDeletedAt: replied.deletedAt,
				repliedSenderName: repliedSender.displayName
			})
			.from(messages)
			.leftJoin(users, eq(users.id, messages.senderId))
			.leftJoin(
				replied,
				and(eq(replied.roomId, messages.roomId), eq(replied.seq, messages.replyToSeq))
			)
			.leftJoin(repliedSender, eq(repliedSender.id, replied.senderId))
			.where(range)
			.orderBy(forward ? asc(messages.seq) : desc(messages.seq))
			.limit(limit + 1),
		room.unflushed({ ...cursor, limit: limit + 1 })
	]);

	const bySeq = new Map<number, ChatMessage>();
	for (const row of stored) bySeq.set(row.seq, toChatMessage(row));
	for (const message of await withCurrentNames(db, tail)) bySeq.set(message.seq, message);

	const merged = [...bySeq.values()].sort((a, b) => (forward ? a.seq - b.seq : b.seq - a.seq));
	const page = merged.slice(0, limit);
	if (!forward) page.reverse();
	return { messages: page, hasMore: merged.length > limit };
}

/**
 * The room object keeps each message with the sender's name as it was when sent; D1's rows show
 * the name as it is now. Give the tail the current names too, so a renamed or deleted account reads
 * the same on every page whether or not the flush has caught up.
 */
async function withCurrentNames(db: Db, tail: ChatMessage[]): Promise<ChatMessage[]> {
	const ids = [
		...new Set(tail.flatMap((m) => (m.kind === 'text' && m.senderId ? [m.senderId] : [])))
	];
	if (ids.length === 0) return tail;
	const rows = await db
		.select({ id: users.id, name: users.displayName, deletedAt: users.deletedAt })
		.from(users)
		.where(inArray(users.id, ids));
	const names = new Map(rows.map((r) => [r.id, r.deletedAt === null ? r.name : DELETED_USER_NAME]));
	return tail.map((m) =>
		m.kind === 'text' && m.senderId
			? { ...m, senderName: names.get(m.senderId) ?? DELETED_USER_NAME }
			: m
	);
}

/** The messages around `seq` (half before, half from it on), for a link to one message. */
export async function readHistoryAround(
	db: Db,
	room: UnflushedSource,
	roomId: string,
	seq: number,
	limit = HISTORY_PAGE_SIZE
): Promise<HistoryWindow> {
	const half = Math.floor(limit / 2);
	const [older, newer] = await Promise.all([
		readHistory(db, room, roomId, { before: seq }, half),
		readHistory(db, room, roomId, { after: seq - 1 }, limit - half)
	]);
	return {
		messages: [...older.messages, ...newer.messages],
		hasOlder: older.hasMore,
		hasNewer: newer.hasMore
	};
}

type StoredRow = {
	seq: number;
	clientId: string;
	senderId: string | null;
	senderName: string | null;
	senderDeletedAt: number | null;
	kind: MessageKind;
	senderKind: 'person' | 'bot' | null;
	body: string;
	createdAt: number;
	replyToSeq: number | null;
	mentions: string;
	reactions: string;
	editedAt: number | null;
	deletedAt: number | null;
	deletedBy: string | null;
	expired: boolean;
	attachments: string | null;
	repliedBody: string | null;
	repliedAttachments: string | null;
	repliedDeletedAt: number | null;
	repliedSenderName: string | null;
};

function toChatMessage(row: StoredRow): ChatMessage {
	const message: ChatMessage = {
		seq: row.seq,
		clientId: row.clientId,
		senderId: row.senderId,
		senderName:
			row.kind === 'system'
				? ''
				: row.senderDeletedAt !== null || row.senderName === null
					? DELETED_USER_NAME
					: row.senderName,
		kind: row.kind,
		body: row.body,
		createdAt: row.createdAt
	};
	if (row.replyToSeq !== null) {
		message.replyTo = replyPreview(
			row.replyToSeq,
			row.repliedSenderName ?? DELETED_USER_NAME,
			row.repliedBody ?? '',
			row.repliedDeletedAt !== null || row.repliedBody === null,
			parseStoredAttachments(row.repliedAttachments)
		);
	}
	const mentions = parseMentionList(row.mentions);
	if (mentions.length > 0) message.mentions = mentions;
	const reactions = parseReactionMap(row.reactions);
	if (Object.keys(reactions).length > 0) message.reactions = reactions;
	if (row.editedAt !== null) message.editedAt = row.editedAt;
	if (row.deletedAt !== null) message.deletedAt = row.deletedAt;
	if (row.deletedBy !== null) message.removedByModerator = true;
	if (row.expired) message.expired = true;
	// The room marks a bot's messages as it stores them; D1's rows by their sender's kind.
	if (row.kind === 'text' && row.senderKind === 'bot') message.bot = true;
	const attachments = parseStoredAttachments(row.attachments);
	if (attachments) message.attachments = attachments;
	return message;
}

const SeqCursor = v.optional(
	v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a non-negative integer'), v.transform(Number))
);

/**
 * The query of a history request, as the web app and the API both take it: `before=seq` pages
 * backwards, `after=seq` forwards, neither is the newest page; `around=seq` is the window around
 * one message; `limit` is the page's size (at most `HISTORY_PAGE_SIZE`).
 */
export const HistoryQuery = v.pipe(
	v.object({
		before: v.pipe(
			SeqCursor,
			v.description('Messages before this seq (older), newest page when absent.')
		),
		after: v.pipe(SeqCursor, v.description('Messages after this seq (newer).')),
		around: v.pipe(
			SeqCursor,
			v.description('The window around this seq: half before, half from it.')
		),
		limit: v.pipe(
			v.optional(countParam(HISTORY_PAGE_SIZE)),
			v.description(
				`How many messages (1 to ${HISTORY_PAGE_SIZE}; ${HISTORY_PAGE_SIZE} when absent).`
			)
		)
	}),
	v.check(
		(q) => [q.before, q.after, q.around].filter((c) => c !== undefined).length <= 1,
		'Use one of "before", "after" or "around".'
	)
);

/** Reads what a `HistoryQuery` asks for: a page, or the window around one message. */
export function readHistoryFor(
	db: Db,
	room: UnflushedSource,
	roomId: string,
	{ around, limit, ...cursor }: v.InferOutput<typeof HistoryQuery>
): Promise<HistoryPage | HistoryWindow> {
	if (around !== undefined) return readHistoryAround(db, room, roomId, Math.max(1, around), limit);
	return readHistory(db, room, roomId, cursor, limit);
}
