// The realtime protocol, typed once and imported by the room object and the browser. Both ends
// validate every frame they receive: nothing that arrives over a socket is trusted as typed.
import * as v from 'valibot';

export const MAX_MESSAGE_LENGTH = 4000;
/** A frame larger than this is refused before it is parsed. */
export const MAX_FRAME_BYTES = 16 * 1024;
export const MAX_CLIENT_ID_LENGTH = 64;

/** WebSocket close codes the room uses (4000-4999 is the application range). */
export const CloseCode = {
	/** The user left, was removed or banned: do not reconnect. */
	Removed: 4003,
	/** The room no longer exists. */
	RoomGone: 4004,
	/** The server is restarting this connection; reconnect and catch up. */
	Restart: 4012
} as const;

/** Heartbeat frames, answered by the runtime without waking a hibernated room. */
export const PING = '{"type":"ping"}';
export const PONG = '{"type":"pong"}';

export const ErrorCode = {
	BadFrame: 'bad_frame',
	FrameTooLarge: 'frame_too_large',
	MessageTooLong: 'message_too_long',
	EmptyMessage: 'empty_message',
	RateLimited: 'rate_limited',
	Internal: 'internal'
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const Seq = v.pipe(v.number(), v.integer(), v.minValue(0));
const ClientId = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_ID_LENGTH));

// ---- client -> room ----

export const HelloFrame = v.object({ type: v.literal('hello'), lastSeq: Seq });
export const SendFrame = v.object({
	type: v.literal('send'),
	clientId: ClientId,
	body: v.string()
});

export const ClientFrame = v.variant('type', [HelloFrame, SendFrame]);
export type ClientFrame = v.InferOutput<typeof ClientFrame>;

// ---- room -> client ----

export const ChatMessage = v.object({
	seq: Seq,
	clientId: v.string(),
	senderId: v.nullable(v.string()),
	senderName: v.string(),
	/** `system` messages record what happened in the room ("Alice added Bob"); no sender. */
	kind: v.picklist(['text', 'system']),
	body: v.string(),
	createdAt: v.number()
});
export type ChatMessage = v.InferOutput<typeof ChatMessage>;

export const WelcomeFrame = v.object({
	type: v.literal('welcome'),
	userId: v.string(),
	lastSeq: Seq
});
export const MessageFrame = v.object({ type: v.literal('message'), message: ChatMessage });
export const AckFrame = v.object({ type: v.literal('ack'), clientId: v.string(), seq: Seq });
export const BacklogFrame = v.object({
	type: v.literal('backlog'),
	messages: v.array(ChatMessage),
	/** True when more was missed than fits in one frame: page the rest with `after` over HTTP. */
	more: v.boolean()
});
export const ErrorFrame = v.object({
	type: v.literal('error'),
	code: v.string(),
	message: v.string(),
	clientId: v.optional(v.string())
});

export const ServerFrame = v.variant('type', [
	WelcomeFrame,
	MessageFrame,
	AckFrame,
	BacklogFrame,
	ErrorFrame
]);
export type ServerFrame = v.InferOutput<typeof ServerFrame>;
/** Under load the room may coalesce several frames into one array. */
export const ServerPayload = v.union([ServerFrame, v.array(ServerFrame)]);

export type ProtocolError = { code: ErrorCode; message: string };
export type Parsed<T> = { ok: true; frame: T } | { ok: false; error: ProtocolError };

function parseJson(raw: string | ArrayBuffer): unknown {
	if (typeof raw !== 'string') raw = new TextDecoder().decode(raw);
	return JSON.parse(raw);
}

function byteLength(raw: string | ArrayBuffer): number {
	return typeof raw === 'string' ? new TextEncoder().encode(raw).byteLength : raw.byteLength;
}

/** Parses and validates a frame from a client. Never throws. */
export function parseClientFrame(raw: string | ArrayBuffer): Parsed<ClientFrame> {
	if (byteLength(raw) > MAX_FRAME_BYTES) {
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

/** Parses and validates what the room sent; always returns a list of frames. */
export function parseServerPayload(raw: string | ArrayBuffer): Parsed<ServerFrame[]> {
	let data: unknown;
	try {
		data = parseJson(raw);
	} catch {
		return fail(ErrorCode.BadFrame, 'Frames must be JSON.');
	}
	const result = v.safeParse(ServerPayload, data);
	if (!result.success) return fail(ErrorCode.BadFrame, describeIssue(result.issues[0]));
	return { ok: true, frame: Array.isArray(result.output) ? result.output : [result.output] };
}

/** Checks a message body the way the room will, so the composer can say so before sending. */
export function checkMessageBody(body: string): ProtocolError | null {
	if (body.trim().length === 0) {
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

function fail(code: ErrorCode, message: string): { ok: false; error: ProtocolError } {
	return { ok: false, error: { code, message } };
}

function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
	if (!issue) return 'The frame is not valid.';
	const path = issue.path?.map((p) => String(p.key)).join('.');
	if (issue.kind === 'schema' && issue.type === 'variant' && !path) {
		return 'Unknown frame type.';
	}
	return path ? `Invalid "${path}": ${issue.message}` : issue.message;
}
