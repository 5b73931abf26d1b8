// The room's messages in its own SQLite: the acknowledgement point, the source of catch-up
// backlogs and of the not-yet-flushed tail that history pages merge over D1.
import {
	parseStoredAttachments,
	replyPreview,
	replyPreviewOf,
	type Attachment,
	type ChatMessage,
	type MessageKind,
	type Reactions
} from '../../../shared/protocol';
import { parseMentionList, parseReactionMap } from '../../../shared/protocol/stored';
import { plainPreview } from '../../../shared/preview';
import type { FlushRow, RoomRow } from './flush';

type MessageRow = {
	seq: number;
	client_id: string;
	sender_id: string | null;
	sender_name: string;
	kind: MessageKind;
	body: string;
	created_at: number;
	reply_to_seq: number | null;
	mentions: string;
	reactions: string;
	edited_at: number | null;
	deleted_at: number | null;
	deleted_by: string | null;
	expired: number;
	/** JSON of the files it carries; null for none (almost every message). */
	attachments: string | null;
	sender_bot: number;
	rev: number;
	version: number;
	flushed_version: number;
	r_sender_id: string | null;
	r_sender_name: string | null;
	r_body: string | null;
	r_deleted_at: number | null;
	r_attachments: string | null;
};

const SELECT = `SELECT m.seq, m.client_id, m.sender_id, m.sender_name, m.kind, m.body, m.created_at,
	m.reply_to_seq, m.mentions, m.reactions, m.edited_at, m.deleted_at, m.deleted_by, m.expired,
	m.attachments,
	m.sender_bot, m.rev,
	m.version, m.flushed_version,
	r.sender_id AS r_sender_id, r.sender_name AS r_sender_name, r.body AS r_body, r.deleted_at AS r_deleted_at,
	r.attachments AS r_attachments
	FROM messages m LEFT JOIN messages r ON r.seq = m.reply_to_seq`;

export type NewMessage = {
	clientId: string;
	senderId: string | null;
	senderName: string;
	kind: MessageKind;
	body: string;
	replyTo?: ChatMessage;
	mentions?: string[];
	/** The files it carries (`RoomFiles.claimable` found them), in order. */
	attachments?: Attachment[];
	/** Its sender is a bot. */
	bot?: boolean;
};

export type MessageChange = {
	body?: string;
	mentions?: string[];
	reactions?: Reactions;
	editedAt?: number;
	deletedAt?: number;
	/** Who deleted it, when not its sender. */
	deletedBy?: string;
	/** Deleted for outliving the room's retention. */
	expired?: boolean;
	/**
	 * The files it carries from now on: null drops them all (a deletion); a list keeps those only
	 * (their uploader's account was deleted), an empty one counting as none.
	 */
	attachments?: Attachment[] | null;
};

export class MessageStore {
	#sql: SqlStorage;
	#lastSeq: number;
	#rev: number;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
		const row = sql
			.exec<{ seq: number; rev: number }>(
				'SELECT coalesce(max(seq), 0) AS seq, coalesce(max(rev), 0) AS rev FROM messages'
			)
			.one();
		this.#lastSeq = row.seq;
		this.#rev = row.rev;
	}

	get lastSeq(): number {
		return this.#lastSeq;
	}

	/** The room's change counter: bumped by every new message and every change to one. */
	get rev(): number {
		return this.#rev;
	}

	get(seq: number): ChatMessage | null {
		const row = this.#sql.exec<MessageRow>(`${SELECT} WHERE m.seq = ?`, seq).toArray()[0];
		return row ? toChatMessage(row) : null;
	}

	/** The seq a sender's `clientId` already has: resends are answered with it. */
	seqOf(senderId: string | null, clientId: string): number | null {
		const row = this.#sql
			.exec<{ seq: number }>(
				senderId === null
					? 'SELECT seq FROM messages WHERE sender_id IS NULL AND client_id = ?'
					: 'SELECT seq FROM messages WHERE sender_id = ? AND client_id = ?',
				...(senderId === null ? [clientId] : [senderId, clientId])
			)
			.toArray()[0];
		return row ? row.seq : null;
	}

	/**
	 * Gives a message the next seq and stores it. Storage calls are synchronous, so no other frame
	 * can take the same seq in between; the output gate holds whatever is sent after this until the
	 * write is durable.
	 */
	append(input: NewMessage, now: number): ChatMessage {
		const seq = this.#lastSeq + 1;
		const rev = this.#rev + 1;
		const mentions = input.mentions ?? [];
		const attachments = input.attachments?.length ? input.attachments : undefined;
		this.#sql.exec(
			`INSERT INTO messages (seq, client_id, sender_id, sender_name, kind, body, created_at,
			   reply_to_seq, mentions, attachments, sender_bot, rev)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			seq,
			input.clientId,
			input.senderId,
			input.senderName,
			input.kind,
			input.body,
			now,
			input.replyTo?.seq ?? null,
			JSON.stringify(mentions),
			attachments ? JSON.stringify(attachments) : null,
			input.bot ? 1 : 0,
			rev
		);
		this.#lastSeq = seq;
		this.#rev = rev;
		const message: ChatMessage = {
			seq,
			clientId: input.clientId,
			senderId: input.senderId,
			senderName: input.senderName,
			kind: input.kind,
			body: input.body,
			createdAt: now,
			rev
		};
		if (input.replyTo) message.replyTo = replyPreviewOf(input.replyTo);
		if (mentions.length > 0) message.mentions = mentions;
		if (attachments) message.attachments = attachments;
		if (input.bot) message.bot = true;
		return message;
	}

	/** When `userId` last sent a message here (for slow mode), or null if never. */
	lastSentAt(userId: string): number | null {
		return (
			this.#sql
				.exec<{ at: number | null }>(
					"SELECT MAX(created_at) AS at FROM messages WHERE sender_id = ? AND kind = 'text'",
					userId
				)
				.one().at ?? null
		);
	}

	/** Applies a change to a message in place (its seq, and so its order, never changes). */
	update(seq: number, change: MessageChange): ChatMessage | null {
		const rev = this.#rev + 1;
		const columns: [string, string | number | null][] = [];
		if (change.body !== undefined) columns.push(['body', change.body]);
		if (change.mentions) columns.push(['mentions', JSON.stringify(change.mentions)]);
		if (change.reactions) columns.push(['reactions', JSON.stringify(change.reactions)]);
		if (change.editedAt !== undefined) columns.push(['edited_at', change.editedAt]);
		if (change.deletedAt !== undefined) columns.push(['deleted_at', change.deletedAt]);
		if (change.deletedBy !== undefined) columns.push(['deleted_by', change.deletedBy]);
		if (change.expired !== undefined) columns.push(['expired', change.expired ? 1 : 0]);
		if (change.attachments !== undefined) {
			const kept = change.attachments?.length ? JSON.stringify(change.attachments) : null;
			columns.push(['attachments', kept]);
		}
		const sets = columns.map(([column]) => `, ${column} = ?`).join('');
		const cursor = this.#sql.exec(
			`UPDATE messages SET rev = ?, version = version + 1${sets} WHERE seq = ?`,
			rev,
			...columns.map(([, value]) => value),
			seq
		);
		if (cursor.rowsWritten === 0) return null;
		this.#rev = rev;
		return this.get(seq);
	}

	/**
	 * What a client that has everything up to `lastSeq` missed, oldest first. Read as it is
	 * iterated, so that a reader that stops at a byte budget does not convert the rest.
	 */
	*after(lastSeq: number, upTo: number, limit: number): Generator<ChatMessage> {
		const rows = this.#sql.exec<MessageRow>(
			`${SELECT} WHERE m.seq > ? AND m.seq <= ? ORDER BY m.seq LIMIT ?`,
			lastSeq,
			upTo,
			limit
		);
		for (const row of rows) yield toChatMessage(row);
	}

	/** Messages up to `upToSeq` that changed after `sinceRev`, in the order they changed. */
	*changedSince(
		sinceRev: number,
		untilRev: number,
		upToSeq: number,
		limit: number
	): Generator<ChatMessage> {
		const rows = this.#sql.exec<MessageRow>(
			`${SELECT} WHERE m.rev > ? AND m.rev <= ? AND m.seq <= ? ORDER BY m.rev LIMIT ?`,
			sinceRev,
			untilRev,
			upToSeq,
			limit
		);
		for (const row of rows) yield toChatMessage(row);
	}

	/** Messages D1 may not have yet (or has an older version of), in a seq range. */
	unflushed(range: { before?: number; after?: number; limit: number }): ChatMessage[] {
		const before = range.before ?? Number.MAX_SAFE_INTEGER;
		const after = range.after ?? -1;
		const order = range.after !== undefined ? 'ASC' : 'DESC';
		return this.#sql
			.exec<MessageRow>(
				`${SELECT} WHERE m.version > m.flushed_version AND m.seq < ? AND m.seq > ?
				 ORDER BY m.seq ${order} LIMIT ?`,
				before,
				after,
				range.limit
			)
			.toArray()
			.map(toChatMessage);
	}

	/** The next batch for D1, oldest first, each with the version being copied. */
	toFlush(limit: number): FlushRow[] {
		return this.#sql
			.exec<MessageRow>(
				`${SELECT} WHERE m.version > m.flushed_version ORDER BY m.seq LIMIT ?`,
				limit
			)
			.toArray()
			.map(toFlushRow);
	}

	/**
	 * Marks the versions that reached D1, the whole batch in one statement; a row changed meanwhile
	 * stays due, and marking the same batch twice changes nothing.
	 */
	markFlushed(rows: FlushRow[]): void {
		if (rows.length === 0) return;
		this.#sql.exec(
			`UPDATE messages SET flushed_version = f.version
			   FROM (SELECT value ->> '$[0]' AS seq, value ->> '$[1]' AS version FROM json_each(?)) AS f
			  WHERE messages.seq = f.seq AND messages.flushed_version < f.version`,
			JSON.stringify(rows.map((row) => [row.seq, row.version]))
		);
	}

	/**
	 * What the conversation's row in D1 shows after copying `batch`: the newest message D1 then
	 * holds (its seq and time: the room's activity and unread count go by it), and the preview of
	 * the newest one of those still there, as a deleted message has nothing to show. Every flush
	 * asks, so a deletion or edit of whichever message the row shows moves the row, also when it is
	 * older than the newest. Two indexed reads that stop at the first match, once per flush batch,
	 * never on the send path. Null for an empty batch.
	 */
	rowAfterFlush(batch: FlushRow[]): RoomRow | null {
		if (batch.length === 0) return null;
		// The flush goes in seq order: after this batch D1 has every seq up to the batch's last,
		// and whatever was flushed before (a batch of only an old message's edit ends lower).
		const flushed = this.#sql
			.exec<{ seq: number }>(
				'SELECT seq FROM messages WHERE flushed_version > 0 ORDER BY seq DESC LIMIT 1'
			)
			.toArray()[0]?.seq;
		const top = Math.max(flushed ?? 0, ...batch.map((row) => row.seq));
		const newest = this.#sql
			.exec<{ seq: number; created_at: number }>(
				'SELECT seq, created_at FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1',
				top
			)
			.toArray()[0];
		if (!newest) return null;
		const shown = this.#sql
			.exec<{ kind: MessageKind; body: string; attachments: string | null }>(
				`SELECT kind, body, attachments FROM messages WHERE seq <= ? AND deleted_at IS NULL
				 ORDER BY seq DESC LIMIT 1`,
				top
			)
			.toArray()[0];
		const preview = shown
			? plainPreview({ ...shown, attachments: parseStoredAttachments(shown.attachments) })
			: '';
		return { seq: newest.seq, at: newest.created_at, preview };
	}

	hasUnflushed(): boolean {
		return (
			this.#sql.exec('SELECT 1 FROM messages WHERE version > flushed_version LIMIT 1').toArray()
				.length > 0
		);
	}
}

function toChatMessage(row: MessageRow): ChatMessage {
	const message: ChatMessage = {
		seq: row.seq,
		clientId: row.client_id,
		senderId: row.sender_id,
		senderName: row.sender_name,
		kind: row.kind,
		body: row.body,
		createdAt: row.created_at,
		rev: row.rev
	};
	if (row.reply_to_seq !== null) {
		message.replyTo = replyPreview(
			row.reply_to_seq,
			row.r_sender_name ?? '',
			row.r_body ?? '',
			row.r_deleted_at !== null,
			parseStoredAttachments(row.r_attachments)
		);
	}
	const mentions = parseMentionList(row.mentions);
	if (mentions.length > 0) message.mentions = mentions;
	const reactions = parseReactionMap(row.reactions);
	if (Object.keys(reactions).length > 0) message.reactions = reactions;
	if (row.edited_at !== null) message.editedAt = row.edited_at;
	if (row.deleted_at !== null) message.deletedAt = row.deleted_at;
	if (row.deleted_by !== null) message.removedByModerator = true;
	if (row.expired) message.expired = true;
	const attachments = parseStoredAttachments(row.attachments);
	if (attachments) message.attachments = attachments;
	if (row.sender_bot) message.bot = true;
	return message;
}

function toFlushRow(row: MessageRow): FlushRow {
	return {
		seq: row.seq,
		version: row.version,
		isNew: row.flushed_version === 0,
		repliedTo: row.r_sender_id,
		clientId: row.client_id,
		senderId: row.sender_id,
		kind: row.kind,
		body: row.body,
		replyToSeq: row.reply_to_seq,
		mentions: row.mentions,
		reactions: row.reactions,
		createdAt: row.created_at,
		editedAt: row.edited_at,
		deletedAt: row.deleted_at,
		deletedBy: row.deleted_by,
		expired: row.expired === 1,
		attachments: row.attachments
	};
}
