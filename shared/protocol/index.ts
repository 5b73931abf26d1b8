// The realtime protocol, typed once and imported by the room object and the browser. Both ends
// validate every frame they receive: nothing that arrives over a socket is trusted as typed.
import * as v from 'valibot';
import { isReactionEmoji } from './emoji';

export { isReactionEmoji } from './emoji';
export { MAX_MENTIONS, mentionedUsernames } from './mentions';

export const MAX_MESSAGE_LENGTH = 4000;
/**
 * A frame larger than this is refused before it is parsed. It fits the longest encrypted message
 * (`MAX_SEALED_LENGTH`: 4000 characters of any script, as ciphertext) with its frame around it.
 */
export const MAX_FRAME_BYTES = 20 * 1024;
export const MAX_CLIENT_ID_LENGTH = 64;
/** Distinct emoji on one message. */
export const MAX_REACTIONS_PER_MESSAGE = 20;
export const MAX_EMOJI_LENGTH = 32;
/** Characters of the replied-to message quoted with a reply. */
export const REPLY_SNIPPET_LENGTH = 140;
/**
 * An end-to-end encrypted room's message, edit or reaction is an MLS application message (base64);
 * its length is judged as ciphertext (the room cannot read the words). A commit is longer: it
 * carries keys for every member (docs/e2ee.md).
 */
export const MAX_SEALED_LENGTH = 17_000;
export const MAX_SEALED_REACTION_LENGTH = 1_024;
export const MAX_HANDSHAKE_LENGTH = 128 * 1024;
/** Files one message carries at most. */
export const MAX_ATTACHMENTS = 10;
/** A file's id (`/files/<id>`): the server makes them, 24 characters; anything longer is not one. */
export const MAX_FILE_ID_LENGTH = 64;

/** A client sends at most one `typing` frame this often while its user types. */
export const TYPING_INTERVAL_MS = 3000;
/** The room forgets that someone is typing this long after their last `typing` frame. */
export const TYPING_TTL_MS = 6000;
/** A tab without input for this long counts as away. */
export const AWAY_AFTER_MS = 5 * 60 * 1000;
/** Presence, typing and receipts are coalesced into at most one frame per room this often. */
export const ROOM_STATE_INTERVAL_MS = 1000;

/**
 * Per user per room: messages, edits, deletions and reactions. `burst` may come at once, then
 * `perSecond` on average. Beyond it the room answers `rate_limited` with `retryAfterMs`.
 */
export const SEND_RATE = { burst: 20, perSecond: 5 } as const;
/** Per socket, every frame of any kind (typing, read, even malformed ones). */
export const FRAME_RATE = { burst: 60, perSecond: 30 } as const;
/**
 * Sockets one person may hold into one room at once (tabs, devices). Each costs the room a send
 * per broadcast, so without a cap one member could make every message cost thousands of sends.
 */
export const MAX_ROOM_SOCKETS_PER_USER = 10;
/** Sockets one person may hold to their own hub (`/ws/me`, one per open tab), across all rooms. */
export const MAX_HUB_SOCKETS_PER_USER = 20;

/** WebSocket close codes the room uses (4000-4999 is the application range). */
export const CloseCode = {
	/** The tab's session was signed out (revoked, or signed out everywhere): sign in again. */
	SignedOut: 4001,
	/** The user left, was removed or banned: do not reconnect. */
	Removed: 4003,
	/** The room no longer exists. */
	RoomGone: 4004,
	/**
	 * The person already holds as many sockets as allowed (`MAX_ROOM_SOCKETS_PER_USER` into a
	 * room, `MAX_HUB_SOCKETS_PER_USER` to the hub): the socket is closed as soon as it opens, with
	 * a reason a person can read. Do not reconnect: another try would be turned away too.
	 */
	TooManyConnections: 4008,
	/** The server is restarting this connection; reconnect and catch up. */
	Restart: 4012
} as const;

export { PING, PONG } from './heartbeat';

export const ErrorCode = {
	BadFrame: 'bad_frame',
	FrameTooLarge: 'frame_too_large',
	MessageTooLong: 'message_too_long',
	EmptyMessage: 'empty_message',
	/**
	 * Too fast, or (for a `send`) an earlier message of this socket was refused for rate and has
	 * not come again yet: resend from that one, in order, after `retryAfterMs`.
	 */
	RateLimited: 'rate_limited',
	/** A connection says `hello` once; a second one is refused and changes nothing. */
	DuplicateHello: 'duplicate_hello',
	/** The message (or the one replied to) does not exist in this room, or was deleted. */
	NotFound: 'not_found',
	/** Not yours to change. */
	Forbidden: 'forbidden',
	InvalidReaction: 'invalid_reaction',
	/**
	 * A `send` names a file it may not carry: not uploaded to this room by this sender, already
	 * carried by another message, listed twice, or more than `MAX_ATTACHMENTS`. Nothing is stored.
	 */
	InvalidAttachment: 'invalid_attachment',
	/**
	 * The room's slow mode, or an admin's time-out of this sender, holds this `send` (and, as for
	 * `rate_limited`, the later sends of its socket): resend from it, in order, after `retryAfterMs`.
	 */
	SlowMode: 'slow_mode',
	TimedOut: 'timed_out',
	/**
	 * An end-to-end encrypted room takes only what its members' devices encrypted (a `send`, `edit`
	 * or `react` in the clear, or ciphertext of another group, is refused), and a plain room takes
	 * no encrypted handshake.
	 */
	Encryption: 'encryption',
	/**
	 * An encrypted room's commit was made from an epoch the group has left: another member's commit
	 * came first. Apply the commits after it (they are in the timeline), then commit again.
	 */
	StaleEpoch: 'stale_epoch',
	Internal: 'internal'
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));
const MessageSeq = v.pipe(v.number(), v.integer(), v.minValue(1));
const ClientId = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_ID_LENGTH));
export const FileId = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_FILE_ID_LENGTH));
/**
 * A reaction: a single emoji, or in an encrypted room the MLS message that carries one (the room
 * judges which its kind of room takes: `checkReaction`).
 */
const Emoji = v.pipe(
	v.string(),
	v.maxLength(MAX_SEALED_REACTION_LENGTH),
	v.check(
		(text) => (text.length <= MAX_EMOJI_LENGTH ? isReactionEmoji(text) : isBase64(text)),
		'Reactions are a single emoji.'
	)
);

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Shaped like base64 (what an encrypted room's ciphertext is sent as); not whether it decodes. */
export function isBase64(text: string): boolean {
	return text.length % 4 === 0 && BASE64.test(text);
}

// ---- client -> room ----

export const HelloFrame = v.object({
	type: v.literal('hello'),
	/** Everything up to this seq is known: the room sends what came after. */
	lastSeq: Seq,
	/** Every change up to this revision is known: the room also sends later edits of older messages. */
	lastRev: v.optional(Seq),
	/** The tab starts hidden or idle. */
	away: v.optional(v.boolean())
});
export const SendFrame = v.object({
	type: v.literal('send'),
	clientId: ClientId,
	/** May be empty when the message carries files: the caption is optional. */
	body: v.string(),
	replyTo: v.optional(MessageSeq),
	/**
	 * Ids of files this sender uploaded to the room, in the order shown. Their count and
	 * uniqueness are checked by the room (`checkAttachments`), so that a refusal names the message.
	 */
	attachments: v.optional(v.array(FileId)),
	/**
	 * In an end-to-end encrypted room only, where the room cannot read `@name`s: the ids of the
	 * members the sender's browser found mentioned (at most `MAX_MENTIONS`).
	 */
	mentions: v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))))
});
export const EditFrame = v.object({ type: v.literal('edit'), seq: MessageSeq, body: v.string() });
export const DeleteFrame = v.object({ type: v.literal('delete'), seq: MessageSeq });
export const ReactFrame = v.object({
	type: v.literal('react'),
	seq: MessageSeq,
	emoji: Emoji,
	/** Add (true) or take back (false) my reaction: idempotent, unlike a toggle, if resent. */
	on: v.boolean()
});
export const TypingFrame = v.object({ type: v.literal('typing') });
export const ReadFrame = v.object({ type: v.literal('read'), seq: Seq });
/** The tab became hidden or idle (`away`), or active again. */
export const ActivityFrame = v.object({ type: v.literal('activity'), away: v.boolean() });
/**
 * Asks for the last-seen time of every offline member (for a member list): the welcome carries
 * only those online or away and the most recently seen, so that a join costs what the room's
 * online members cost, not what all its members do. Answered with a `presence` frame.
 */
export const PresenceRequestFrame = v.object({ type: v.literal('presence') });

export const ClientFrame = v.variant('type', [
	HelloFrame,
	SendFrame,
	EditFrame,
	DeleteFrame,
	ReactFrame,
	TypingFrame,
	ReadFrame,
	ActivityFrame,
	PresenceRequestFrame
]);
export type ClientFrame = v.InferOutput<typeof ClientFrame>;

/**
 * A change a person makes to a room through the app (the API) instead of a socket: the same frames,
 * judged by the same code in the room. A socket's `send` also answers `ack`; the room answers these
 * with a `RoomChangeResult`.
 */
export type RoomChange = Extract<
	ClientFrame,
	{ type: 'send' | 'edit' | 'delete' | 'react' | 'read' }
>;
/**
 * What the room answers a change: the message as it now stands (none for a read), and whether a
 * `send` was a resend of a message stored before; or the refusal a socket would hear as an `error`.
 */
export type RoomChangeResult =
	| { ok: true; stored: ChatMessage | null; duplicate: boolean }
	| { ok: false; code: ErrorCode; message: string; retryAfterMs?: number };

// ---- room -> client ----

export const ReplyPreview = v.object({
	seq: MessageSeq,
	senderName: v.string(),
	/** The start of the replied-to message; empty when it was deleted. */
	snippet: v.string(),
	deleted: v.boolean()
});
export type ReplyPreview = v.InferOutput<typeof ReplyPreview>;

/**
 * What stands for an end-to-end encrypted room's words wherever the server shows a message (the
 * sidebar, the inbox, a notification): it cannot read them. An open room's tab, which can, shows
 * the words instead (docs/e2ee.md).
 */
export const SEALED_PREVIEW = '🔒 Encrypted message';
export const HANDSHAKE_PREVIEW = '🔒 Encryption keys changed';

/** What a one-line preview shows before the name of a file a message carries. */
export const ATTACHMENT_MARK = '📎';

/**
 * How a message's files are named where there is room for one line: the first one's name and how
 * many more ("📎 beach.jpg +2"); empty without files. The reply quote of a message without a
 * caption says this too.
 */
export function attachmentLabel(files: readonly { name: string }[] | null | undefined): string {
	if (!files || files.length === 0) return '';
	const more = files.length > 1 ? ` +${files.length - 1}` : '';
	return `${ATTACHMENT_MARK} ${files[0]!.name}${more}`;
}

/**
 * The quote a reply shows of the message it answers, by one rule wherever it is made: the room
 * (a new reply, a stored one), the history pages, and the browser (a pending reply, and a quote
 * whose message is loaded and may have been edited or deleted since).
 */
export function replyPreview(
	seq: number,
	senderName: string,
	body: string,
	deleted: boolean,
	attachments?: readonly { name: string }[] | null
): ReplyPreview {
	// A message of files alone is quoted by its files' names, not an empty line.
	const text = body.trim() === '' ? attachmentLabel(attachments) : body;
	return { seq, senderName, snippet: deleted ? '' : text.slice(0, REPLY_SNIPPET_LENGTH), deleted };
}

/** `replyPreview` of a message in hand. */
export function replyPreviewOf(message: {
	seq: number;
	senderName: string;
	body: string;
	deletedAt?: number;
	attachments?: readonly { name: string }[] | null;
}): ReplyPreview {
	return replyPreview(
		message.seq,
		message.senderName,
		message.body,
		message.deletedAt !== undefined,
		message.attachments
	);
}

/** `{ emoji: userIds }`, in the order the emoji were first used. */
export const Reactions = v.record(v.string(), v.array(v.string()));
export type Reactions = v.InferOutput<typeof Reactions>;

/**
 * A file a message carries, as the room recorded it at upload: what a timeline needs to show it
 * (at its final size, before its bytes arrive) without asking anyone. Its bytes are at
 * `/files/<id>`. Measurements and the placeholder are left out when unknown.
 */
export const Attachment = v.object({
	id: v.string(),
	/** The name the uploader gave, sanitized. */
	name: v.string(),
	/** The MIME type decided from the bytes. */
	type: v.string(),
	kind: v.picklist(['image', 'video', 'audio', 'document']),
	size: v.number(),
	width: v.optional(v.number()),
	height: v.optional(v.number()),
	/** A thumbhash (base64) the uploader's browser computed. */
	placeholder: v.optional(v.string())
});
export type Attachment = v.InferOutput<typeof Attachment>;

/**
 * `text` and `system` as ever; in an end-to-end encrypted room, `sealed` (the body is an MLS
 * application message only members' devices can read) and `handshake` (an MLS commit every device
 * applies in `seq` order: a change of the group's devices). See docs/e2ee.md.
 */
export const MESSAGE_KINDS = ['text', 'system', 'sealed', 'handshake'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export const ChatMessage = v.object({
	seq: MessageSeq,
	clientId: v.string(),
	senderId: v.nullable(v.string()),
	senderName: v.string(),
	/**
	 * `system` messages record what happened in the room ("Alice added Bob"). Their sender is the
	 * person who did it (their name is in the body, so `senderName` stays empty), or null in lines
	 * recorded before actors were.
	 */
	kind: v.picklist(MESSAGE_KINDS),
	/** Empty once the message is deleted (a tombstone keeps its place). */
	body: v.string(),
	createdAt: v.number(),
	/** The room's change counter at this message's last change; absent in pages read from D1. */
	rev: v.optional(Seq),
	// The rest is left out when empty, to keep the hot path's frames small.
	replyTo: v.optional(ReplyPreview),
	/** Ids of the members mentioned with `@username`. */
	mentions: v.optional(v.array(v.string())),
	reactions: v.optional(Reactions),
	/** The files it carries, in order; gone with the message when it is deleted. */
	attachments: v.optional(v.array(Attachment)),
	editedAt: v.optional(v.number()),
	deletedAt: v.optional(v.number()),
	/** Deleted by the room's owner or an admin, not by its sender: "removed by an admin". */
	removedByModerator: v.optional(v.literal(true)),
	/** Deleted because it outlived the room's retention (or disappearing messages): not shown. */
	expired: v.optional(v.literal(true)),
	/** Sent by a bot (an account a room's admins made, acting through the API). */
	bot: v.optional(v.literal(true))
});
export type ChatMessage = v.InferOutput<typeof ChatMessage>;

export const PresenceState = v.picklist(['online', 'away', 'offline']);
export type PresenceState = v.InferOutput<typeof PresenceState>;
export const PresenceEntry = v.object({
	userId: v.string(),
	name: v.string(),
	/** For `@mentions` of people who joined after the page loaded; empty if the room has none. */
	username: v.string(),
	state: PresenceState,
	/** When their last socket closed; null while connected or if never seen here. */
	lastSeenAt: v.nullable(v.number())
});
export type PresenceEntry = v.InferOutput<typeof PresenceEntry>;

export const ReceiptEntry = v.object({
	userId: v.string(),
	/** Null when either side has turned read receipts off. */
	readSeq: v.nullable(Seq),
	/**
	 * Everything up to here reached one of their devices. While they are online (or away) every
	 * message reaches them as it is sent, so this only moves when they connect or disconnect.
	 */
	deliveredSeq: Seq
});
export type ReceiptEntry = v.InferOutput<typeof ReceiptEntry>;

export const TypingUser = v.object({ userId: v.string(), name: v.string() });
export type TypingUser = v.InferOutput<typeof TypingUser>;

export const WelcomeFrame = v.object({
	type: v.literal('welcome'),
	userId: v.string(),
	lastSeq: Seq,
	rev: Seq,
	/** How far this user has read, as the room knows it. */
	readSeq: Seq,
	/** Whether this user shares (and so sees) read receipts. */
	readReceipts: v.boolean(),
	/** How many membership changes the room has had: see `members`. */
	membersRev: Seq,
	/**
	 * Members online or away, and the most recently seen offline ones; anyone else is offline (a
	 * `presence` request gets their last-seen times).
	 */
	presence: v.array(PresenceEntry),
	/** Members who have a read or delivery position; anyone else has neither. */
	receipts: v.array(ReceiptEntry),
	typing: v.array(TypingUser)
});
export const MessageFrame = v.object({ type: v.literal('message'), message: ChatMessage });
/** A message changed (edited, deleted, reacted to): replace it, keeping its place. */
export const UpdateFrame = v.object({ type: v.literal('update'), message: ChatMessage });
export const AckFrame = v.object({ type: v.literal('ack'), clientId: v.string(), seq: MessageSeq });
export const BacklogFrame = v.object({
	type: v.literal('backlog'),
	messages: v.array(ChatMessage),
	/** True when more was missed than fits in one frame: page the rest with `after` over HTTP. */
	more: v.boolean(),
	/** Messages up to `lastSeq` that changed after `lastRev`, when the hello gave one. */
	updates: v.optional(v.array(ChatMessage))
});
/**
 * Who changed presence since the last presence frame: a summary, however many joined. Also the
 * answer to a client's `presence` request (the offline members' last-seen times).
 */
export const PresenceFrame = v.object({
	type: v.literal('presence'),
	members: v.array(PresenceEntry)
});
export const MemberEntry = v.object({
	userId: v.string(),
	name: v.string(),
	username: v.string(),
	/** A bot (made for the room by its admins): member lists mark it. */
	bot: v.optional(v.literal(true))
});
export type MemberEntry = v.InferOutput<typeof MemberEntry>;
/**
 * Who did what a system message records. Acting in a room is reading it, as writing is, so the line
 * is never unread for them; except a line that records their leaving, which they will never read.
 */
export type SystemActor = MemberEntry & { left?: boolean };
/**
 * Who was added to the room and who lost their place in it (left, removed, banned, blocked or
 * deleted) since the last such frame. People who join and connect also show up in presence; this
 * covers those who are added while away, and takes the ones who went out of every member list.
 */
export const MembersFrame = v.object({
	type: v.literal('members'),
	joined: v.array(MemberEntry),
	left: v.array(v.string()),
	/** The room's count of membership changes, these included (the welcome's `membersRev`). */
	rev: Seq
});
/** Everyone typing now (replaces the previous list). */
export const TypingListFrame = v.object({ type: v.literal('typing'), users: v.array(TypingUser) });
/** Read and delivery positions that moved since the last receipt frame. */
export const ReceiptFrame = v.object({
	type: v.literal('receipt'),
	receipts: v.array(ReceiptEntry)
});
export const ErrorFrame = v.object({
	type: v.literal('error'),
	code: v.string(),
	message: v.string(),
	/** The message being sent that this is about. */
	clientId: v.optional(v.string()),
	/** The existing message that this is about (edit, delete, react). */
	seq: v.optional(v.number()),
	/** For `rate_limited`: when trying again will work. */
	retryAfterMs: v.optional(v.number())
});

/**
 * An end-to-end encrypted room: a member's devices changed (a new one waits to be let in): the
 * devices in the room bring the group in step with the room's devices now (docs/e2ee.md).
 */
export const DevicesFrame = v.object({ type: v.literal('devices') });

export const ServerFrame = v.variant('type', [
	WelcomeFrame,
	MessageFrame,
	UpdateFrame,
	AckFrame,
	BacklogFrame,
	PresenceFrame,
	MembersFrame,
	TypingListFrame,
	ReceiptFrame,
	DevicesFrame,
	ErrorFrame
]);
export type ServerFrame = v.InferOutput<typeof ServerFrame>;
const KNOWN_SERVER_TYPES = new Set<string>(ServerFrame.options.map((o) => o.entries.type.literal));

export type ProtocolError = { code: ErrorCode; message: string };
export type Parsed<T> = { ok: true; frame: T } | { ok: false; error: ProtocolError };

function parseJson(raw: string | ArrayBuffer): unknown {
	if (typeof raw !== 'string') raw = new TextDecoder().decode(raw);
	return JSON.parse(raw);
}

function exceedsFrameLimit(raw: string | ArrayBuffer): boolean {
	if (typeof raw !== 'string') return raw.byteLength > MAX_FRAME_BYTES;
	// UTF-8 needs at most 3 bytes per UTF-16 unit: most frames are cleared without encoding them.
	if (raw.length * 3 <= MAX_FRAME_BYTES) return false;
	if (raw.length > MAX_FRAME_BYTES) return true;
	return new TextEncoder().encode(raw).byteLength > MAX_FRAME_BYTES;
}

/** Parses and validates a frame from a client. Never throws. */
export function parseClientFrame(raw: string | ArrayBuffer): Parsed<ClientFrame> {
	if (exceedsFrameLimit(raw)) {
		return fail(ErrorCode.FrameTooLarge, `Frames are limited to ${MAX_FRAME_BYTES} bytes.`);
	}
	let data: unknown;
	try {
		data = parseJson(raw);
	} catch {
		return fail(ErrorCode.BadFrame, 'Frames must be JSON.');
	}
	const result = v.safeParse(ClientFrame, data);
	if (!result.success) {
		return fail(ErrorCode.BadFrame, describeIssue(result.issues[0]));
	}
	return { ok: true, frame: result.output };
}

/**
 * Parses and validates what the room sent; always returns a list of frames. Frames of a type this
 * client does not know are skipped, so a newer room can add frame types without breaking it.
 */
export function parseServerPayload(raw: string | ArrayBuffer): Parsed<ServerFrame[]> {
	let data: unknown;
	try {
		data = parseJson(raw);
	} catch {
		return fail(ErrorCode.BadFrame, 'Frames must be JSON.');
	}
	const frames: ServerFrame[] = [];
	for (const item of Array.isArray(data) ? data : [data]) {
		if (!isKnownServerFrame(item)) continue;
		const result = v.safeParse(ServerFrame, item);
		if (!result.success) return fail(ErrorCode.BadFrame, describeIssue(result.issues[0]));
		frames.push(result.output);
	}
	return { ok: true, frame: frames };
}

function isKnownServerFrame(item: unknown): boolean {
	return (
		typeof item === 'object' &&
		item !== null &&
		'type' in item &&
		typeof item.type === 'string' &&
		KNOWN_SERVER_TYPES.has(item.type)
	);
}

/**
 * Checks a message body the way the room will, so the composer can say so before sending. A
 * message that carries files (`attachmentCount`) may have an empty body; one without may not.
 */
export function checkMessageBody(body: string, attachmentCount = 0): ProtocolError | null {
	if (attachmentCount === 0 && body.trim().length === 0) {
		return { code: ErrorCode.EmptyMessage, message: 'A message cannot be empty.' };
	}
	if (body.length > MAX_MESSAGE_LENGTH) {
		return {
			code: ErrorCode.MessageTooLong,
			message: `Messages are limited to ${MAX_MESSAGE_LENGTH} characters.`
		};
	}
	return null;
}

/** Checks the files a `send` names: at most `MAX_ATTACHMENTS`, each once. */
export function checkAttachments(ids: readonly string[]): ProtocolError | null {
	if (ids.length > MAX_ATTACHMENTS) {
		return {
			code: ErrorCode.InvalidAttachment,
			message: `A message can carry at most ${MAX_ATTACHMENTS} files.`
		};
	}
	if (new Set(ids).size !== ids.length) {
		return { code: ErrorCode.InvalidAttachment, message: 'Each file can be attached only once.' };
	}
	return null;
}

/**
 * Reads attachments stored as JSON (the room's SQLite, D1), defensively: a damaged value reads as
 * none rather than breaking a whole page. Null (no files) is the common case and costs nothing.
 */
export function parseStoredAttachments(json: string | null): Attachment[] | undefined {
	if (json === null) return undefined;
	try {
		const parsed = v.safeParse(v.array(Attachment), JSON.parse(json));
		return parsed.success && parsed.output.length > 0 ? parsed.output : undefined;
	} catch {
		return undefined;
	}
}

function fail(code: ErrorCode, message: string): { ok: false; error: ProtocolError } {
	return { ok: false, error: { code, message } };
}

/**
 * Says what was wrong in the validator's terms of what was expected, never what was received: the
 * received value is the sender's own input, up to a whole frame of it, and an error must not echo
 * it back (nor carry the validator's wording into the page that shows it).
 */
function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
	if (!issue) return 'The frame is not valid.';
	const path = issue.path
		?.map((p) => String(p.key))
		.join('.')
		.slice(0, MAX_ISSUE_PATH);
	if (issue.kind === 'schema' && issue.type === 'variant' && !path) {
		return 'Unknown frame type.';
	}
	// Checks of our own (`v.check`) carry a sentence written here, not the input.
	const what =
		issue.type === 'check' ? issue.message : `expected ${issue.expected ?? 'a valid value'}.`;
	return path ? `Invalid "${path}": ${what}` : `Invalid frame: ${what}`;
}

/** A field path is the schema's own keys; cut anyway, so that no error grows with the input. */
const MAX_ISSUE_PATH = 64;
