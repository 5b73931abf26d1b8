import { DurableObject } from 'cloudflare:workers';
import {
	CloseCode,
	ErrorCode,
	PING,
	PONG,
	checkMessageBody,
	parseClientFrame,
	type ChatMessage,
	type ProtocolError,
	type ServerFrame
} from '../../../src/lib/protocol';
import { readIdentity } from './identity';
import { migrateRoomStorage } from './room-storage';
import { flushToD1, type FlushRow } from './flush';
import { UnreadSignals } from './unread-signals';

/** Per-socket state that must survive hibernation. Keep it small. */
type Attachment = { userId: string; userName: string };

/** How many missed messages a reconnecting client gets over the socket; the rest it pages. */
export const BACKLOG_LIMIT = 500;
/** How long new messages wait before the flush to D1, so that bursts go in one batch. */
const FLUSH_DELAY_MS = 250;
const FLUSH_BATCH = 100;
const FLUSH_RETRY_MAX_MS = 60_000;

type MessageRow = {
	seq: number;
	client_id: string;
	sender_id: string | null;
	sender_name: string;
	kind: 'text' | 'system';
	body: string;
	created_at: number;
	version: number;
};

/**
 * One chat room. It owns ordering: each message gets the next `seq`, is written to this object's
 * SQLite (the acknowledgement point), acknowledged, broadcast, and copied to D1 by the alarm.
 *
 * Threat model: this object is reachable only through the app worker's binding, which has already
 * authenticated the user and checked membership in D1. It trusts the identity headers of the
 * upgrade request and nothing a client says about who it is.
 */
export class ChatRoom extends DurableObject<Env> {
	#sql: SqlStorage;
	#lastSeq = 0;
	#roomId: string | null = null;
	/** When the next alarm fires, if one is set; `undefined` until read from storage. */
	#alarmAt: number | null | undefined;
	#unread: UnreadSignals;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.#sql = ctx.storage.sql;
		migrateRoomStorage(this.#sql);
		this.#lastSeq = this.#sql
			.exec<{ s: number }>('SELECT coalesce(max(seq), 0) AS s FROM messages')
			.one().s;
		this.#roomId = this.#meta('room_id');
		// Heartbeats are answered by the runtime without waking a hibernated object.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		this.#unread = new UnreadSignals(ctx, env, (id) => ctx.getWebSockets(userTag(id)).length > 0);
	}

	async fetch(request: Request): Promise<Response> {
		const identity = readIdentity(request.headers);
		if (!identity) return new Response('Missing identity', { status: 400 });
		if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
			return new Response('Expected a WebSocket upgrade', { status: 426 });
		}
		this.#rememberRoomId(identity.roomId);

		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server, [userTag(identity.userId)]);
		server.serializeAttachment({
			userId: identity.userId,
			userName: identity.userName
		} satisfies Attachment);
		this.#unread.onConnect(identity.userId);
		return new Response(null, { status: 101, webSocket: client });
	}

	async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		const parsed = parseClientFrame(raw);
		if (!parsed.ok) return sendError(ws, parsed.error);
		const who = ws.deserializeAttachment() as Attachment;
		try {
			const frame = parsed.frame;
			switch (frame.type) {
				case 'hello':
					return this.#onHello(ws, who, frame.lastSeq);
				case 'send':
					return this.#onSend(ws, who, frame.clientId, frame.body);
			}
		} catch (err) {
			// Never let one bad moment take the room down, and never send internals to a client.
			console.error('room frame failed', err);
			sendError(ws, { code: ErrorCode.Internal, message: 'Something went wrong; try again.' });
		}
	}

	async webSocketClose(ws: WebSocket, code: number): Promise<void> {
		closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code);
	}

	async webSocketError(ws: WebSocket): Promise<void> {
		closeQuietly(ws, 1011);
	}

	async alarm(): Promise<void> {
		this.#alarmAt = null;
		const roomId = this.#roomId;
		if (!roomId) return;
		const rows = this.#sql
			.exec<MessageRow>(
				`SELECT seq, client_id, sender_id, sender_name, kind, body, created_at, version
				   FROM messages WHERE version > flushed_version ORDER BY seq LIMIT ?`,
				FLUSH_BATCH
			)
			.toArray();
		if (rows.length === 0) return;
		try {
			await flushToD1(this.env.DB, roomId, rows.map(toFlushRow));
		} catch (err) {
			const failures = Number(this.#meta('flush_failures') ?? '0') + 1;
			this.#setMeta('flush_failures', String(failures));
			const delay = Math.min(FLUSH_RETRY_MAX_MS, 1000 * 2 ** Math.min(failures - 1, 6));
			console.warn(`flush to D1 failed (${failures} in a row), retrying in ${delay} ms`, err);
			await this.#scheduleFlush(delay);
			return;
		}
		for (const row of rows) {
			this.#sql.exec('UPDATE messages SET flushed_version = ? WHERE seq = ?', row.version, row.seq);
		}
		this.#setMeta('flush_failures', '0');
		if (this.#hasUnflushed()) await this.#scheduleFlush(0);
	}

	// ---- RPC for the app worker ----

	/**
	 * Messages the room holds that D1 may not have yet (or has an older version of), in a seq range.
	 * History pages merge these over D1's rows, so reads stay correct while the flush lags.
	 */
	async unflushed(range: {
		before?: number;
		after?: number;
		limit: number;
	}): Promise<ChatMessage[]> {
		const before = range.before ?? Number.MAX_SAFE_INTEGER;
		const after = range.after ?? -1;
		const order = range.after !== undefined ? 'ASC' : 'DESC';
		return this.#sql
			.exec<MessageRow>(
				`SELECT seq, client_id, sender_id, sender_name, kind, body, created_at, version
				   FROM messages WHERE version > flushed_version AND seq < ? AND seq > ?
				   ORDER BY seq ${order} LIMIT ?`,
				before,
				after,
				range.limit
			)
			.toArray()
			.map(toChatMessage);
	}

	async lastSeq(): Promise<number> {
		return this.#lastSeq;
	}

	/**
	 * Records something that happened to the room ("Alice added Bob") in its timeline, ordered
	 * like any message. `eventId` makes it idempotent, as `clientId` does for people.
	 */
	async postSystemMessage(roomId: string, eventId: string, body: string): Promise<ChatMessage> {
		this.#rememberRoomId(roomId);
		const existing = this.#sql
			.exec<MessageRow>(
				`SELECT seq, client_id, sender_id, sender_name, kind, body, created_at, version
				   FROM messages WHERE sender_id IS NULL AND client_id = ?`,
				eventId
			)
			.toArray()[0];
		if (existing) return toChatMessage(existing);
		const message = this.#append({
			clientId: eventId,
			senderId: null,
			senderName: '',
			kind: 'system',
			body
		});
		this.#broadcast({ type: 'message', message });
		await this.#scheduleFlush(FLUSH_DELAY_MS);
		return message;
	}

	/**
	 * Closes every socket of a user in this room at once: they left, were removed or banned. The app
	 * has already changed membership in D1, so a reconnect is refused at the door.
	 */
	async disconnectUser(userId: string): Promise<number> {
		const sockets = this.ctx.getWebSockets(userTag(userId));
		for (const socket of sockets) closeQuietly(socket, CloseCode.Removed, 'removed from the room');
		this.#unread.forget(userId);
		return sockets.length;
	}

	// ---- frame handlers ----

	#onHello(ws: WebSocket, who: Attachment, lastSeq: number): void {
		const missed = this.#sql
			.exec<MessageRow>(
				`SELECT seq, client_id, sender_id, sender_name, kind, body, created_at, version
				   FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`,
				lastSeq,
				BACKLOG_LIMIT + 1
			)
			.toArray();
		const more = missed.length > BACKLOG_LIMIT;
		send(ws, [
			{ type: 'welcome', userId: who.userId, lastSeq: this.#lastSeq },
			{ type: 'backlog', messages: missed.slice(0, BACKLOG_LIMIT).map(toChatMessage), more }
		]);
	}

	async #onSend(ws: WebSocket, who: Attachment, clientId: string, body: string): Promise<void> {
		const invalid = checkMessageBody(body);
		if (invalid) return sendError(ws, invalid, clientId);

		// A resend of a message we already have gets its original seq, and nobody sees it twice.
		const existing = this.#sql
			.exec<{ seq: number }>(
				'SELECT seq FROM messages WHERE sender_id = ? AND client_id = ?',
				who.userId,
				clientId
			)
			.toArray()[0];
		if (existing) return send(ws, { type: 'ack', clientId, seq: existing.seq });

		const message = this.#append({
			clientId,
			senderId: who.userId,
			senderName: who.userName,
			kind: 'text',
			body
		});
		send(ws, { type: 'ack', clientId, seq: message.seq });
		this.#broadcast({ type: 'message', message });
		await this.#scheduleFlush(FLUSH_DELAY_MS);
	}

	/**
	 * Gives a message the next seq and stores it. The storage calls are synchronous, so no other
	 * frame can take the same seq in between; the output gate holds whatever is sent after this
	 * until the write is durable.
	 */
	#append(input: Omit<ChatMessage, 'seq' | 'createdAt'>): ChatMessage {
		const message: ChatMessage = { ...input, seq: this.#lastSeq + 1, createdAt: Date.now() };
		this.#sql.exec(
			`INSERT INTO messages (seq, client_id, sender_id, sender_name, kind, body, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?)`,
			message.seq,
			message.clientId,
			message.senderId,
			message.senderName,
			message.kind,
			message.body,
			message.createdAt
		);
		this.#lastSeq = message.seq;
		if (this.#roomId) this.#unread.onMessage(this.#roomId, message);
		return message;
	}

	// ---- helpers ----

	#broadcast(frame: ServerFrame): void {
		const data = JSON.stringify(frame);
		for (const socket of this.ctx.getWebSockets()) {
			try {
				socket.send(data);
			} catch {
				// A socket that is closing will be cleaned up by webSocketClose.
			}
		}
	}

	async #scheduleFlush(delayMs: number): Promise<void> {
		if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
		const at = Date.now() + delayMs;
		// Keep an earlier alarm: pushing it back on every message would starve the flush.
		if (this.#alarmAt !== null && this.#alarmAt <= at) return;
		this.#alarmAt = at;
		await this.ctx.storage.setAlarm(at);
	}

	#hasUnflushed(): boolean {
		return (
			this.#sql.exec('SELECT 1 FROM messages WHERE version > flushed_version LIMIT 1').toArray()
				.length > 0
		);
	}

	#rememberRoomId(roomId: string): void {
		if (this.#roomId === roomId) return;
		if (this.#roomId !== null) throw new Error('room object addressed with a different room id');
		this.#roomId = roomId;
		this.#setMeta('room_id', roomId);
	}

	#meta(key: string): string | null {
		const row = this.#sql
			.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)
			.toArray()[0];
		return row ? row.value : null;
	}

	#setMeta(key: string, value: string): void {
		this.#sql.exec(
			'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
			key,
			value
		);
	}
}

function userTag(userId: string): string {
	return `user:${userId}`;
}

function toChatMessage(row: MessageRow): ChatMessage {
	return {
		seq: row.seq,
		clientId: row.client_id,
		senderId: row.sender_id,
		senderName: row.sender_name,
		kind: row.kind,
		body: row.body,
		createdAt: row.created_at
	};
}

function toFlushRow(row: MessageRow): FlushRow {
	return {
		seq: row.seq,
		clientId: row.client_id,
		senderId: row.sender_id,
		kind: row.kind,
		body: row.body,
		createdAt: row.created_at
	};
}

function send(ws: WebSocket, frame: ServerFrame | ServerFrame[]): void {
	try {
		ws.send(JSON.stringify(frame));
	} catch {
		// The socket closed under us; its close handler tidies up.
	}
}

function sendError(ws: WebSocket, error: ProtocolError, clientId?: string): void {
	send(ws, { type: 'error', code: error.code, message: error.message, clientId });
}

function closeQuietly(ws: WebSocket, code: number, reason = 'closing'): void {
	try {
		ws.close(code, reason);
	} catch {
		// Already closed.
	}
}
