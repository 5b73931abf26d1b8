import { DurableObject } from 'cloudflare:workers';
import {
	CloseCode,
	ErrorCode,
	FRAME_RATE,
	MAX_REACTIONS_PER_MESSAGE,
	MAX_ROOM_SOCKETS_PER_USER,
	PING,
	PONG,
	ROOM_STATE_INTERVAL_MS,
	SEND_RATE,
	checkMessageBody,
	mentionedUsernames,
	parseClientFrame,
	type ChatMessage,
	type ClientFrame,
	type MemberEntry,
	type PresenceEntry,
	type ReceiptEntry,
	type ServerFrame
} from '../../../shared/protocol';
import { loadMemberDirectory } from './directory';
import { Fanout, sendNow } from './fanout';
import { flushToD1 } from './flush';
import { readIdentity, sessionTag, sessionTags, type MemberRole } from '../../../shared/identity';
import { MemberStore, type Member } from './members';
import { MessageStore } from './message-store';
import { PresenceBook } from './presence';
import { TokenBucket } from './rate-limit';
import { migrateRoomStorage } from './room-storage';
import { TypingBook } from './typing';
import { UnreadSignals } from './unread-signals';
import { readMeta, writeMeta } from './meta';

/** Per-socket state that must survive hibernation. Keep it small. */
type Attachment = {
	userId: string;
	userName: string;
	username: string;
	role: MemberRole;
	receipts: boolean;
	away: boolean;
	/** Broadcasts after this seq and rev reach the socket; its hello backlog covers up to them. */
	fromSeq: number;
	fromRev: number;
	/** Set at the first hello: a connection gets one backlog, also across hibernation. */
	greeted?: true;
	/**
	 * The close code, once the room decided to close this socket (removed, signed out, room gone,
	 * turned away). From that moment its frames change nothing, even though the runtime keeps
	 * delivering them until the client answers the close frame, and even after a wake: memory
	 * is gone then, this mark is not.
	 */
	closed?: number;
};
type Socket = Attachment & {
	frames: TokenBucket;
	/** Whether this connection got every last-seen time already (presence frames keep them). */
	toldLastSeen: boolean;
	/**
	 * The clientId of the first `send` this socket had refused for rate and that has not come
	 * again since. Until it does, every new send of this socket is refused too, so that no message
	 * takes a seq ahead of one its sender sent before it. In memory only: a room hibernates after
	 * seconds without a frame, by when the client has resent (from this one, in order) or left,
	 * and a conforming client's next send after a wake is this one anyway.
	 */
	held: string | null;
};

/** How many missed messages a reconnecting client gets over the socket; the rest it pages. */
export const BACKLOG_LIMIT = 500;
/**
 * Bytes of message JSON a hello's backlog carries at most (`messages` and `updates` together):
 * 500 messages of 4,000 characters are 2 MB, and a reply that size costs the runtime more than a
 * thousand ordinary frames. Past it the backlog says `more` and the client pages over HTTP.
 */
export const BACKLOG_BYTES = 512 * 1024;
/** Edits, deletions and reactions of older messages a reconnecting client gets at most. */
const UPDATES_LIMIT = 2000;
/** How long new messages wait before the flush to D1, so that bursts go in one batch. */
const FLUSH_DELAY_MS = 250;
/** Read positions are worth less urgency: they ride along with messages or go within seconds. */
const READ_FLUSH_DELAY_MS = 2000;
const FLUSH_BATCH = 100;
const FLUSH_RETRY_MAX_MS = 30_000;
/** A first change waits this long for others, so that a burst of joins makes one summary. */
const STATE_GATHER_MS = 50;
/**
 * Above this many members online, read positions are not broadcast: each change would go to every
 * socket (members x readers). Large rooms show presence but not "seen by".
 */
export const RECEIPTS_LIVE_LIMIT = 100;
/**
 * Offline members whose last-seen time the welcome carries, most recent first (a direct room's peer
 * among them). Others' come with a `presence` request: the welcome must not grow with the room.
 */
export const WELCOME_LAST_SEEN = 50;
/** The directory of usernames (for mentions) is refreshed from D1 at most this often. */
const DIRECTORY_TTL_MS = 60_000;

/**
 * One chat room. It owns ordering: each message gets the next `seq`, is written to this object's
 * SQLite (the acknowledgement point), acknowledged, broadcast, and copied to D1 by the alarm.
 * Presence, typing and read receipts are coalesced into at most one frame per second.
 *
 * Threat model: this object is reachable only through the app worker's binding, which has already
 * authenticated the user and checked membership in D1. It trusts the identity headers of the
 * upgrade request and nothing a client says about who it is.
 */
export class ChatRoom extends DurableObject<Env> {
	/** Where the flush writes: D1. A seam for tests, which put a failing database here. */
	database: D1Database;

	#sql: SqlStorage;
	#messages: MessageStore;
	#members: MemberStore;
	#presence = new PresenceBook();
	#typing = new TypingBook();
	#fanout = new Fanout();
	#sockets = new Map<WebSocket, Socket>();
	#sendRates = new Map<string, TokenBucket>();
	/** Members whose read or delivery position moved since the last receipt frame. */
	#receiptChanges = new Set<string>();
	/** Who was added (their entry) or lost their place (null) since the last members frame. */
	#memberChanges = new Map<string, MemberEntry | null>();
	/**
	 * Counts membership changes, kept in storage: a tab whose welcome shows a number other than the
	 * one it last heard missed a `members` frame while away, and reloads its member list.
	 */
	#membersRev: number;
	#stateTimer: ReturnType<typeof setTimeout> | undefined;
	#stateDue = 0;
	#lastStateAt = 0;
	/** The welcome's presence and receipts, serialized once per state frame, not once per join. */
	#snapshot: { presence: string; receipts: string; receiptsHidden: string } | null = null;
	/** The answer to a `presence` request, serialized once per state frame. */
	#lastSeen: string | null = null;
	#roomId: string | null;
	/** When the next alarm fires, if one is set; `undefined` until read from storage. */
	#alarmAt: number | null | undefined;
	#flushBackoffUntil = 0;
	/** When the directory was last read; kept in storage, so that waking up does not read it again. */
	#directoryAt: number;
	#unread: UnreadSignals;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.database = env.DB;
		this.#sql = ctx.storage.sql;
		migrateRoomStorage(this.#sql);
		this.#messages = new MessageStore(this.#sql);
		this.#members = new MemberStore(this.#sql);
		this.#roomId = this.#meta('room_id');
		this.#directoryAt = Number(this.#meta('directory_at') ?? 0);
		this.#membersRev = Number(this.#meta('members_rev') ?? 0);
		// Waking from hibernation: the sockets are still there, the memory is not. A socket closed
		// by a decision stays in the runtime until its client answers; it is not taken back.
		for (const ws of ctx.getWebSockets()) {
			const attachment = ws.deserializeAttachment() as Attachment | null;
			if (attachment && attachment.closed === undefined) this.#track(ws, attachment);
		}
		this.#presence.takeChanges();
		// Heartbeats are answered by the runtime without waking a hibernated object.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
		// Presence is counted in memory: asking the runtime for each member's sockets on every
		// message would cost O(members) runtime calls per message.
		this.#unread = new UnreadSignals(ctx, env, (id) => this.#presence.state(id) !== 'offline');
	}

	async fetch(request: Request): Promise<Response> {
		const identity = readIdentity(request.headers);
		if (!identity) return new Response('Missing identity', { status: 400 });
		if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
			return new Response('Expected a WebSocket upgrade', { status: 426 });
		}
		this.#rememberRoomId(identity.roomId);

		const { 0: client, 1: server } = new WebSocketPair();
		if (this.#presence.sockets(identity.userId) >= MAX_ROOM_SOCKETS_PER_USER) {
			// Accepted only to be closed: a browser cannot read the status of a refused upgrade,
			// and would retry at once; a close code and reason it can show. Untagged and marked
			// closed, it is nobody's socket, even after a wake.
			this.ctx.acceptWebSocket(server);
			server.serializeAttachment({ closed: CloseCode.TooManyConnections });
			closeQuietly(server, CloseCode.TooManyConnections, TOO_MANY_CONNECTIONS);
			return new Response(null, { status: 101, webSocket: client });
		}
		this.ctx.acceptWebSocket(server, [userTag(identity.userId), ...sessionTags(identity)]);
		// What is queued goes to those already here; this socket gets every broadcast after it.
		this.#fanout.flush();
		const attachment: Attachment = {
			userId: identity.userId,
			userName: identity.userName,
			username: identity.username,
			role: identity.role,
			receipts: identity.readReceipts,
			away: false,
			fromSeq: this.#messages.lastSeq,
			fromRev: this.#messages.rev
		};
		server.serializeAttachment(attachment);
		this.#members.identify(
			identity.userId,
			{
				username: identity.username,
				name: identity.userName,
				shareReceipts: identity.readReceipts
			},
			Date.now()
		);
		this.#track(server, attachment);
		if (this.#presence.hasChanges) this.#scheduleState();
		this.#refreshDirectory();
		this.#unread.onConnect(identity.userId);
		return new Response(null, { status: 101, webSocket: client });
	}

	async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		const socket = this.#socket(ws);
		if (!socket) return;
		const wait = socket.frames.take();
		if (wait > 0) return this.#refuseFrame(ws, socket, raw, wait);
		const parsed = parseClientFrame(raw);
		if (!parsed.ok) return this.#error(ws, parsed.error.code, parsed.error.message);
		try {
			await this.#handle(ws, socket, parsed.frame);
		} catch (err) {
			// Never let one bad moment take the room down, and never send internals to a client.
			console.error('room frame failed', err);
			// A send is named, so that its client can mark that message failed and send the rest:
			// an unnamed error would leave it resending the same message behind all the others.
			const about = parsed.frame.type === 'send' ? { clientId: parsed.frame.clientId } : {};
			this.#error(ws, ErrorCode.Internal, 'Something went wrong; try again.', about);
		}
	}

	async webSocketClose(ws: WebSocket, code: number): Promise<void> {
		this.#forget(ws);
		closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code);
	}

	async webSocketError(ws: WebSocket): Promise<void> {
		this.#forget(ws);
		closeQuietly(ws, 1011);
	}

	/** The flush: copies new and changed messages and read positions to D1, oldest first. */
	async alarm(): Promise<void> {
		this.#alarmAt = null;
		const roomId = this.#roomId;
		if (!roomId) return;
		const rows = this.#messages.toFlush(FLUSH_BATCH);
		const reads = this.#members.unflushedReads(FLUSH_BATCH);
		if (rows.length === 0 && reads.length === 0) return;
		try {
			await flushToD1(this.database, roomId, rows, reads);
		} catch (err) {
			const failures = Number(this.#meta('flush_failures') ?? '0') + 1;
			this.#setMeta('flush_failures', String(failures));
			const delay = Math.min(FLUSH_RETRY_MAX_MS, 1000 * 2 ** Math.min(failures - 1, 5));
			console.warn(`flush to D1 failed (${failures} in a row), retrying in ${delay} ms`, err);
			// Replaces any earlier alarm a message set meanwhile: the retry waits, whatever arrives.
			this.#flushBackoffUntil = Date.now() + delay;
			this.#alarmAt = this.#flushBackoffUntil;
			await this.ctx.storage.setAlarm(this.#flushBackoffUntil);
			return;
		}
		this.#messages.markFlushed(rows);
		this.#members.markReadsFlushed(reads);
		this.#flushBackoffUntil = 0;
		this.#setMeta('flush_failures', '0');
		if (this.#messages.hasUnflushed() || this.#members.unflushedReads(1).length > 0) {
			await this.#scheduleFlush(0);
		}
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
		return this.#messages.unflushed(range);
	}

	async lastSeq(): Promise<number> {
		return this.#messages.lastSeq;
	}

	/**
	 * The room's change counters. Read before a page of history, `rev` is the `lastRev` a client
	 * sends with its first hello: the room then replays exactly the changes made after that page was
	 * read. Read before the member list, `membersRev` tells the page whether its first welcome finds
	 * the membership changed since.
	 */
	async revisions(): Promise<{ rev: number; membersRev: number }> {
		return { rev: this.#messages.rev, membersRev: this.#membersRev };
	}

	/**
	 * Records something that happened to the room ("Alice added Bob") in its timeline, ordered
	 * like any message. `eventId` makes it idempotent, as `clientId` does for people.
	 */
	async postSystemMessage(roomId: string, eventId: string, body: string): Promise<ChatMessage> {
		this.#rememberRoomId(roomId);
		const existing = this.#messages.seqOf(null, eventId);
		if (existing !== null) return this.#messages.get(existing)!;
		const message = this.#messages.append(
			{ clientId: eventId, senderId: null, senderName: '', kind: 'system', body },
			Date.now()
		);
		this.#unread.onMessage(roomId, message);
		this.#fanout.broadcast({ type: 'message', message });
		await this.#scheduleFlush(FLUSH_DELAY_MS);
		return message;
	}

	/**
	 * Closes every socket of a user in this room at once: they left, were removed or banned. The app
	 * has already changed membership in D1, so a reconnect is refused at the door.
	 */
	async disconnectUser(userId: string): Promise<number> {
		const sockets = this.ctx.getWebSockets(userTag(userId));
		for (const socket of sockets) {
			this.#closeByDecision(socket, CloseCode.Removed, 'removed from the room');
		}
		this.#members.forget(userId);
		this.#typing.stop(userId);
		this.#snapshot = null;
		this.#lastSeen = null;
		this.#unread.forget(userId);
		// Everyone's member list lets them go, connected or not.
		this.#noteMemberChange(userId, null);
		return sockets.length;
	}

	/**
	 * Someone was made a member (D1 already says so). Those who come in by themselves show up in
	 * presence when they connect; this is for people added while they may be away.
	 */
	async memberAdded(member: MemberEntry): Promise<void> {
		this.#noteMemberChange(member.userId, member);
	}

	/**
	 * Sessions were signed out (revoked, or signed out everywhere): their sockets close now. The
	 * people stay members; their other sessions keep their sockets. Answers how many it closed.
	 */
	async endSessions(sessionIds: string[]): Promise<number> {
		let closed = 0;
		for (const sessionId of sessionIds) {
			for (const socket of this.ctx.getWebSockets(sessionTag(sessionId))) {
				this.#closeByDecision(socket, CloseCode.SignedOut, 'signed out');
				closed++;
			}
		}
		return closed;
	}

	/**
	 * The room was deleted in D1: closes every socket, and drops the object's storage and alarm.
	 * Messages not yet flushed could never land now (their room row is gone, so D1's foreign key
	 * refuses them), and an alarm left behind would retry that flush forever. The object starts
	 * afresh in memory too, as if it had never held the room. Answers how many sockets it closed.
	 */
	async destroy(): Promise<number> {
		const sockets = this.ctx.getWebSockets();
		for (const socket of sockets) {
			this.#closeByDecision(socket, CloseCode.RoomGone, 'the room was deleted');
		}
		if (this.#stateTimer !== undefined) clearTimeout(this.#stateTimer);
		this.#stateTimer = undefined;
		await this.ctx.storage.deleteAlarm();
		// Signals still waiting for their window would tell members of a room that is gone.
		this.#unread.stop();
		await this.ctx.storage.deleteAll();
		migrateRoomStorage(this.#sql);
		this.#messages = new MessageStore(this.#sql);
		this.#members = new MemberStore(this.#sql);
		this.#unread = new UnreadSignals(
			this.ctx,
			this.env,
			(id) => this.#presence.state(id) !== 'offline'
		);
		this.#presence = new PresenceBook();
		this.#typing = new TypingBook();
		this.#fanout = new Fanout();
		this.#sockets.clear();
		this.#sendRates.clear();
		this.#receiptChanges.clear();
		this.#memberChanges.clear();
		this.#membersRev = 0;
		this.#snapshot = null;
		this.#lastSeen = null;
		this.#roomId = null;
		this.#alarmAt = null;
		this.#flushBackoffUntil = 0;
		this.#directoryAt = 0;
		return sockets.length;
	}

	/**
	 * A member's role or privacy setting changed in D1: applies it to their open sockets now rather
	 * than at their next connection.
	 */
	async updateMember(
		userId: string,
		change: { role?: MemberRole; readReceipts?: boolean }
	): Promise<void> {
		for (const ws of this.ctx.getWebSockets(userTag(userId))) {
			const socket = this.#socket(ws);
			if (!socket) continue;
			if (change.role) socket.role = change.role;
			if (change.readReceipts !== undefined) socket.receipts = change.readReceipts;
			ws.serializeAttachment(attachmentOf(socket));
		}
		const member = this.#members.get(userId);
		if (member && change.readReceipts !== undefined) {
			this.#members.identify(
				userId,
				{ username: member.username, name: member.name, shareReceipts: change.readReceipts },
				member.lastSeenAt ?? Date.now()
			);
			this.#snapshot = null;
			this.#receiptChanges.add(userId);
			this.#scheduleState();
		}
	}

	// ---- frame handlers ----

	#handle(ws: WebSocket, socket: Socket, frame: ClientFrame): void | Promise<void> {
		switch (frame.type) {
			case 'hello':
				return this.#onHello(ws, socket, frame);
			case 'send':
				return this.#onSend(ws, socket, frame);
			case 'edit':
				return this.#onEdit(ws, socket, frame);
			case 'delete':
				return this.#onDelete(ws, socket, frame);
			case 'react':
				return this.#onReact(ws, socket, frame);
			case 'typing':
				return this.#onTyping(socket);
			case 'read':
				return this.#onRead(socket, frame);
			case 'activity':
				return this.#setAway(ws, socket, frame.away);
			case 'presence':
				return this.#onPresenceRequest(ws, socket);
		}
	}

	#onHello(ws: WebSocket, socket: Socket, frame: Extract<ClientFrame, { type: 'hello' }>): void {
		// A backlog is the costliest answer the room gives: once per connection, or one socket
		// could ask for megabytes of it thirty times a second.
		if (socket.greeted) {
			return this.#error(
				ws,
				ErrorCode.DuplicateHello,
				'This connection has said hello already; reconnect to catch up again.'
			);
		}
		socket.greeted = true;
		if (frame.away !== undefined && frame.away !== socket.away) {
			this.#setAway(ws, socket, frame.away);
		} else {
			ws.serializeAttachment(attachmentOf(socket));
		}
		const budget = { bytes: BACKLOG_BYTES };
		// A page loaded just now has missed nothing: most joins of a storm read no storage here.
		const missed =
			frame.lastSeq < socket.fromSeq
				? fitted(
						this.#messages.after(frame.lastSeq, socket.fromSeq, BACKLOG_LIMIT + 1),
						BACKLOG_LIMIT,
						budget
					)
				: { json: [], cut: false };
		let updates = '';
		let updatesCut = false;
		if (frame.lastRev !== undefined) {
			const changed =
				frame.lastRev >= socket.fromRev
					? { json: [], cut: false }
					: fitted(
							this.#messages.changedSince(
								frame.lastRev,
								socket.fromRev,
								Math.min(frame.lastSeq, socket.fromSeq),
								UPDATES_LIMIT
							),
							UPDATES_LIMIT,
							budget
						);
			updates = `,"updates":[${changed.json.join(',')}]`;
			updatesCut = changed.cut;
		}
		const more = missed.cut || updatesCut;
		// Built from the pieces already serialized to measure them: the budget is what is sent.
		const backlog = `{"type":"backlog","messages":[${missed.json.join(',')}],"more":${more}${updates}}`;
		sendNow(ws, `[${this.#welcome(socket)},${backlog}]`);
	}

	async #onSend(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'send' }>
	): Promise<void> {
		const { clientId, body } = frame;
		const invalid = checkMessageBody(body);
		if (invalid) {
			if (socket.held === clientId) socket.held = null;
			return this.#error(ws, invalid.code, invalid.message, { clientId });
		}

		// A resend of a message we already have gets its original seq, and nobody sees it twice.
		const existing = this.#messages.seqOf(socket.userId, clientId);
		if (existing !== null) {
			if (socket.held === clientId) socket.held = null;
			return this.#fanout.send(ws, { type: 'ack', clientId, seq: existing });
		}

		// An earlier send of this socket was refused for rate: nothing new overtakes it, even if a
		// token is there now. The client resends from that one, in order.
		if (socket.held !== null && socket.held !== clientId) {
			return this.#error(
				ws,
				ErrorCode.RateLimited,
				'An earlier message is waiting to be sent again; this one follows it.',
				{ clientId, retryAfterMs: this.#heldWait(socket) }
			);
		}
		if (!this.#allowChange(ws, socket, { clientId })) {
			socket.held = clientId;
			return;
		}
		socket.held = null;
		let replyTo: ChatMessage | undefined;
		if (frame.replyTo !== undefined) {
			replyTo = this.#messages.get(frame.replyTo) ?? undefined;
			if (!replyTo || replyTo.deletedAt !== undefined) {
				return this.#error(ws, ErrorCode.NotFound, 'The message replied to is gone.', {
					clientId
				});
			}
		}
		const message = this.#messages.append(
			{
				clientId,
				senderId: socket.userId,
				senderName: socket.userName,
				kind: 'text',
				body,
				replyTo,
				mentions: this.#mentionsIn(body)
			},
			Date.now()
		);
		if (this.#roomId) this.#unread.onMessage(this.#roomId, message);
		// Writing in a room is reading it.
		if (this.#members.markRead(socket.userId, message.seq)) this.#noteReceipt(socket.userId);
		// Everyone drops the typing indicator when the message arrives; the room's list follows.
		if (this.#typing.stop(socket.userId)) this.#scheduleState();
		this.#fanout.send(ws, { type: 'ack', clientId, seq: message.seq });
		this.#fanout.broadcast({ type: 'message', message });
		await this.#scheduleFlush(FLUSH_DELAY_MS);
	}

	async #onEdit(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'edit' }>
	): Promise<void> {
		const { seq, body } = frame;
		const invalid = checkMessageBody(body);
		if (invalid) return this.#error(ws, invalid.code, invalid.message, { seq });
		const message = this.#existing(ws, seq);
		if (!message) return;
		if (message.senderId !== socket.userId || message.kind !== 'text') {
			return this.#error(ws, ErrorCode.Forbidden, 'You can only edit your own messages.', { seq });
		}
		if (!this.#allowChange(ws, socket, { seq })) return;
		if (message.body === body) return;
		this.#changed(
			this.#messages.update(seq, { body, editedAt: Date.now(), mentions: this.#mentionsIn(body) })
		);
		await this.#scheduleFlush(FLUSH_DELAY_MS);
	}

	async #onDelete(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'delete' }>
	): Promise<void> {
		const { seq } = frame;
		const message = this.#messages.get(seq);
		if (!message) return this.#error(ws, ErrorCode.NotFound, 'No such message.', { seq });
		// Deleting twice is not an error: a resent delete must not look like a failure.
		if (message.deletedAt !== undefined) return;
		const moderator = socket.role === 'owner' || socket.role === 'admin';
		if (message.kind !== 'text' || (message.senderId !== socket.userId && !moderator)) {
			return this.#error(ws, ErrorCode.Forbidden, 'You can only delete your own messages.', {
				seq
			});
		}
		if (!this.#allowChange(ws, socket, { seq })) return;
		// A tombstone keeps the place in the timeline; the words themselves are gone, also from D1.
		this.#changed(
			this.#messages.update(seq, { body: '', deletedAt: Date.now(), mentions: [], reactions: {} })
		);
		await this.#scheduleFlush(FLUSH_DELAY_MS);
	}

	async #onReact(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'react' }>
	): Promise<void> {
		const { seq, emoji, on } = frame;
		const message = this.#existing(ws, seq);
		if (!message) return;
		const reactions = { ...message.reactions };
		const users = reactions[emoji] ?? [];
		if (users.includes(socket.userId) === on) return;
		if (on && !reactions[emoji] && Object.keys(reactions).length >= MAX_REACTIONS_PER_MESSAGE) {
			return this.#error(
				ws,
				ErrorCode.InvalidReaction,
				`A message can have at most ${MAX_REACTIONS_PER_MESSAGE} different reactions.`,
				{ seq }
			);
		}
		if (!this.#allowChange(ws, socket, { seq })) return;
		const next = on ? [...users, socket.userId] : users.filter((id) => id !== socket.userId);
		if (next.length > 0) reactions[emoji] = next;
		else delete reactions[emoji];
		this.#changed(this.#messages.update(seq, { reactions }));
		await this.#scheduleFlush(FLUSH_DELAY_MS);
	}

	#onTyping(socket: Socket): void {
		if (this.#typing.touch(socket.userId, socket.userName, Date.now())) this.#scheduleState();
	}

	async #onRead(socket: Socket, frame: Extract<ClientFrame, { type: 'read' }>): Promise<void> {
		const seq = Math.min(frame.seq, this.#messages.lastSeq);
		if (!this.#members.markRead(socket.userId, seq)) return;
		this.#noteReceipt(socket.userId);
		await this.#scheduleFlush(READ_FLUSH_DELAY_MS);
	}

	/** Every offline member's last-seen time: what a member list shows beyond the welcome's. */
	#onPresenceRequest(ws: WebSocket, socket: Socket): void {
		// Up to a whole room's worth of entries: once per connection, or a loop could ask for it
		// thirty times a second.
		if (socket.toldLastSeen) {
			return this.#error(
				ws,
				ErrorCode.RateLimited,
				'Last-seen times come once per connection; presence frames keep them current.'
			);
		}
		socket.toldLastSeen = true;
		if (this.#lastSeen === null) {
			const members: PresenceEntry[] = [];
			for (const member of this.#members.all()) {
				if (member.lastSeenAt === null) continue;
				if (this.#presence.state(member.userId) === 'offline') {
					members.push(this.#presenceOf(member));
				}
			}
			this.#lastSeen = JSON.stringify({ type: 'presence', members } satisfies ServerFrame);
		}
		// Queued behind what this socket is owed already, so an older summary cannot overtake it.
		this.#fanout.sendSerialized(ws, this.#lastSeen);
	}

	#setAway(ws: WebSocket, socket: Socket, away: boolean): void {
		if (socket.away === away) return;
		this.#presence.setAway(socket.userId, socket.away, away);
		socket.away = away;
		ws.serializeAttachment(attachmentOf(socket));
		if (this.#presence.hasChanges) this.#scheduleState();
	}

	// ---- sockets ----

	#track(ws: WebSocket, attachment: Attachment): Socket {
		const socket: Socket = {
			...attachment,
			frames: new TokenBucket(FRAME_RATE),
			toldLastSeen: false,
			held: null
		};
		this.#sockets.set(ws, socket);
		this.#presence.add(socket.userId, socket.away);
		this.#fanout.subscribe(ws);
		return socket;
	}

	/**
	 * The socket's state, or null for one the room no longer serves: closed by a decision (marked
	 * in its attachment, so also after a wake) or closing. Its frames then change nothing.
	 */
	#socket(ws: WebSocket): Socket | null {
		const known = this.#sockets.get(ws);
		if (known) return known;
		const attachment = ws.deserializeAttachment() as Attachment | null;
		if (!attachment || attachment.closed !== undefined) return null;
		if (ws.readyState !== WebSocket.OPEN) return null;
		return this.#track(ws, attachment);
	}

	/**
	 * The room closes a socket for a reason of its own (removal, sign-out, deletion). The mark
	 * comes first: the client may never answer the close frame and go on sending, and the object
	 * may hibernate and wake meanwhile.
	 */
	#closeByDecision(ws: WebSocket, code: number, reason: string): void {
		const socket = this.#sockets.get(ws);
		const attachment = socket
			? attachmentOf(socket)
			: (ws.deserializeAttachment() as Attachment | null);
		try {
			ws.serializeAttachment({ ...attachment, closed: code });
		} catch {
			// Closed already: the runtime delivers nothing more from it.
		}
		// Forgotten before it closes, so that not one more broadcast reaches it.
		this.#forget(ws);
		closeQuietly(ws, code, reason);
	}

	/**
	 * A frame over the socket's rate. A `send` is named in the answer, and held: the socket's
	 * later sends wait for it (see `Socket.held`). Only a send not stored yet is held, or a
	 * duplicate the client has seen acknowledged would hold the socket for good.
	 */
	#refuseFrame(ws: WebSocket, socket: Socket, raw: string | ArrayBuffer, wait: number): void {
		const parsed = parseClientFrame(raw);
		if (!parsed.ok || parsed.frame.type !== 'send') {
			return this.#error(ws, ErrorCode.RateLimited, 'Too many frames; slow down.', {
				retryAfterMs: wait
			});
		}
		const { clientId } = parsed.frame;
		if (socket.held === null && this.#messages.seqOf(socket.userId, clientId) === null) {
			socket.held = clientId;
		}
		this.#error(ws, ErrorCode.RateLimited, 'Too many frames; slow down.', {
			clientId,
			retryAfterMs: wait
		});
	}

	/** When the held send could pass both limits, if it came again: at least 1 ms. */
	#heldWait(socket: Socket): number {
		const sends = this.#sendRates.get(socket.userId)?.wait() ?? 0;
		return Math.max(1, socket.frames.wait(), sends);
	}

	/** A socket closed or was closed: it gets nothing more, and its user may now be offline. */
	#forget(ws: WebSocket): void {
		const socket = this.#sockets.get(ws);
		if (!socket) return;
		this.#sockets.delete(ws);
		this.#fanout.unsubscribe(ws);
		this.#presence.remove(socket.userId, socket.away);
		if (this.#presence.state(socket.userId) === 'offline') {
			this.#members.markGone(socket.userId, this.#messages.lastSeq, Date.now());
			this.#presence.touch(socket.userId);
			this.#receiptChanges.add(socket.userId);
			this.#typing.stop(socket.userId);
		}
		this.#scheduleState();
	}

	// ---- membership, presence, typing, receipts: at most one coalesced frame of each a second ----

	#noteMemberChange(userId: string, entry: MemberEntry | null): void {
		this.#memberChanges.set(userId, entry);
		this.#membersRev++;
		this.#setMeta('members_rev', String(this.#membersRev));
		this.#scheduleState();
	}

	#noteReceipt(userId: string): void {
		this.#receiptChanges.add(userId);
		this.#scheduleState();
	}

	#scheduleState(at = 0): void {
		const now = Date.now();
		const due = Math.max(at, now + STATE_GATHER_MS, this.#lastStateAt + ROOM_STATE_INTERVAL_MS);
		if (this.#stateTimer !== undefined) {
			if (this.#stateDue <= due) return;
			clearTimeout(this.#stateTimer);
		}
		this.#stateDue = due;
		this.#stateTimer = setTimeout(() => this.#sendState(), due - now);
	}

	#sendState(): void {
		this.#stateTimer = undefined;
		const now = Date.now();
		this.#lastStateAt = now;
		this.#typing.expire(now);
		this.#snapshot = null;
		this.#lastSeen = null;

		if (this.#memberChanges.size > 0) {
			const changes = [...this.#memberChanges];
			this.#memberChanges.clear();
			this.#fanout.broadcast({
				type: 'members',
				joined: changes.flatMap(([, entry]) => (entry ? [entry] : [])),
				left: changes.flatMap(([userId, entry]) => (entry ? [] : [userId])),
				rev: this.#membersRev
			});
		}
		if (this.#presence.hasChanges) {
			const members = this.#presence
				.takeChanges()
				.map((id) => this.#members.get(id))
				.filter((m): m is Member => m !== undefined)
				.map((m) => this.#presenceOf(m));
			this.#fanout.broadcast({ type: 'presence', members });
		}
		const typing = this.#typing.takeChange();
		if (typing) this.#fanout.broadcast({ type: 'typing', users: typing });
		if (this.#receiptChanges.size > 0) {
			const changed = [...this.#receiptChanges]
				.map((id) => this.#members.get(id))
				.filter((m): m is Member => m !== undefined);
			this.#receiptChanges.clear();
			if (this.#presence.connected <= RECEIPTS_LIVE_LIMIT) {
				this.#fanout.broadcastEither(
					{ type: 'receipt', receipts: changed.map((m) => receiptOf(m, true)) },
					{ type: 'receipt', receipts: changed.map((m) => receiptOf(m, false)) },
					(ws) => (this.#sockets.get(ws)?.receipts === false ? 'b' : 'a')
				);
			}
		}
		const expiry = this.#typing.nextExpiry();
		if (expiry !== null) this.#scheduleState(expiry);
	}

	#presenceOf(member: Member): PresenceEntry {
		const state = this.#presence.state(member.userId);
		return {
			userId: member.userId,
			name: member.name,
			username: member.username,
			state,
			lastSeenAt: state === 'offline' ? member.lastSeenAt : null
		};
	}

	/**
	 * The welcome frame, serialized, with the room's state as of now. Its presence costs what the
	 * members online cost, whatever the size of the room: offline is the default.
	 */
	#welcome(socket: Socket): string {
		if (!this.#snapshot) {
			const presence: PresenceEntry[] = [];
			for (const id of this.#presence.connectedIds()) {
				const member = this.#members.get(id);
				if (member) presence.push(this.#presenceOf(member));
			}
			let recent = 0;
			for (const member of this.#members.recentlyGone()) {
				if (recent >= WELCOME_LAST_SEEN) break;
				if (member.lastSeenAt === null || this.#presence.state(member.userId) !== 'offline') {
					continue;
				}
				presence.push(this.#presenceOf(member));
				recent++;
			}
			const positioned =
				this.#presence.connected <= RECEIPTS_LIVE_LIMIT ? welcomeReceipts(this.#members.all()) : [];
			this.#snapshot = {
				presence: JSON.stringify(presence),
				receipts: JSON.stringify(positioned.map((m) => receiptOf(m, true))),
				receiptsHidden: JSON.stringify(positioned.map((m) => receiptOf(m, false)))
			};
		}
		const head = JSON.stringify({
			type: 'welcome',
			userId: socket.userId,
			lastSeq: this.#messages.lastSeq,
			rev: this.#messages.rev,
			readSeq: this.#members.get(socket.userId)?.readSeq ?? 0,
			readReceipts: socket.receipts,
			membersRev: this.#membersRev,
			typing: this.#typing.list()
		});
		const receipts = socket.receipts ? this.#snapshot.receipts : this.#snapshot.receiptsHidden;
		return `${head.slice(0, -1)},"presence":${this.#snapshot.presence},"receipts":${receipts}}`;
	}

	// ---- helpers ----

	/** The message an edit or reaction is about, or an error to the sender. */
	#existing(ws: WebSocket, seq: number): ChatMessage | null {
		const message = this.#messages.get(seq);
		if (message && message.deletedAt === undefined) return message;
		this.#error(ws, ErrorCode.NotFound, 'No such message.', { seq });
		return null;
	}

	#changed(message: ChatMessage | null): void {
		if (message) this.#fanout.broadcast({ type: 'update', message });
	}

	/** The per-user budget for messages and changes, shared by all of their tabs. */
	#allowChange(ws: WebSocket, socket: Socket, about: { clientId?: string; seq?: number }): boolean {
		let bucket = this.#sendRates.get(socket.userId);
		if (!bucket) this.#sendRates.set(socket.userId, (bucket = new TokenBucket(SEND_RATE)));
		const wait = bucket.take();
		if (wait === 0) return true;
		const seconds = Math.ceil(wait / 1000);
		this.#error(
			ws,
			ErrorCode.RateLimited,
			`You are sending too fast. Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`,
			{ ...about, retryAfterMs: wait }
		);
		return false;
	}

	#mentionsIn(body: string): string[] {
		const names = mentionedUsernames(body);
		if (names.length === 0) return [];
		const { ids, unknown } = this.#members.idsOf(names);
		if (unknown > 0) this.#refreshDirectory();
		return ids;
	}

	#error(
		ws: WebSocket,
		code: string,
		message: string,
		extra: { clientId?: string; seq?: number; retryAfterMs?: number } = {}
	): void {
		this.#fanout.send(ws, { type: 'error', code, message, ...extra });
	}

	/** Learns members from D1 in the background, so mentions of people not yet here resolve. */
	#refreshDirectory(): void {
		const roomId = this.#roomId;
		const now = Date.now();
		if (!roomId || now - this.#directoryAt < DIRECTORY_TTL_MS) return;
		// A quiet room sleeps between joins: without this, each join would read all its members.
		this.#directoryAt = now;
		this.#setMeta('directory_at', String(now));
		this.ctx.waitUntil(
			loadMemberDirectory(this.database, roomId)
				.then((rows) => this.#members.learn(rows))
				.catch((err: unknown) => console.warn('member directory refresh failed', err))
		);
	}

	async #scheduleFlush(delayMs: number): Promise<void> {
		if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
		// While D1 is failing, new writes must not pull the retry forward and hammer it.
		const at = Math.max(Date.now() + delayMs, this.#flushBackoffUntil);
		// Keep an earlier alarm: pushing it back on every message would starve the flush.
		if (this.#alarmAt !== null && this.#alarmAt <= at) return;
		this.#alarmAt = at;
		await this.ctx.storage.setAlarm(at);
	}

	#rememberRoomId(roomId: string): void {
		if (this.#roomId === roomId) return;
		if (this.#roomId !== null) throw new Error('room object addressed with a different room id');
		this.#roomId = roomId;
		this.#setMeta('room_id', roomId);
	}

	#meta(key: string): string | null {
		return readMeta(this.#sql, key);
	}

	#setMeta(key: string, value: string): void {
		writeMeta(this.#sql, key, value);
	}
}

/** What a person turned away at the room's socket cap reads (the close reason, at most 123 bytes). */
const TOO_MANY_CONNECTIONS = 'Too many open connections to this room; close some tabs.';

function userTag(userId: string): string {
	return `user:${userId}`;
}

function attachmentOf(socket: Socket): Attachment {
	const { frames: _frames, toldLastSeen: _told, held: _held, ...attachment } = socket;
	return attachment;
}

/**
 * Serializes messages in order until `limit` of them, or until the next would take the JSON past
 * what is left of `budget` (shared by the parts of one reply). `cut` when any were left out.
 */
function fitted(
	messages: Iterable<ChatMessage>,
	limit: number,
	budget: { bytes: number }
): { json: string[]; cut: boolean } {
	const json: string[] = [];
	for (const message of messages) {
		if (json.length >= limit) return { json, cut: true };
		const one = JSON.stringify(message);
		// One byte per character unless the text says otherwise; the separating comma counts too.
		const bytes = (NON_ASCII.test(one) ? utf8.encode(one).byteLength : one.length) + 1;
		if (bytes > budget.bytes) return { json, cut: true };
		budget.bytes -= bytes;
		json.push(one);
	}
	return { json, cut: false };
}

const NON_ASCII = /[\u0080-\uffff]/;
const utf8 = new TextEncoder();

/**
 * Whose read and delivery positions a welcome carries. Someone who never read nor received anything
 * has nothing to show. Beyond RECEIPTS_LIVE_LIMIT, the furthest readers and whoever received the
 * most: "seen by" on an older message may then name fewer than all who read it, the price of a
 * welcome that does not grow with the room (above that many online there is no "seen by" at all).
 */
function welcomeReceipts(members: Iterable<Member>): Member[] {
	const positioned = [...members].filter((m) => m.readSeq > 0 || m.deliveredSeq > 0);
	if (positioned.length <= RECEIPTS_LIVE_LIMIT) return positioned;
	const shown = (m: Member) => (m.shareReceipts ? m.readSeq : 0);
	const kept = positioned.sort((a, b) => shown(b) - shown(a)).slice(0, RECEIPTS_LIVE_LIMIT);
	const furthest = positioned.reduce((best, m) => (m.deliveredSeq > best.deliveredSeq ? m : best));
	if (!kept.includes(furthest)) kept.push(furthest);
	return kept;
}

/** A member's receipt as one reader sees it: no read position unless both share them. */
function receiptOf(member: Member, readerShares: boolean): ReceiptEntry {
	return {
		userId: member.userId,
		readSeq: readerShares && member.shareReceipts ? member.readSeq : null,
		deliveredSeq: member.deliveredSeq
	};
}

function closeQuietly(ws: WebSocket, code: number, reason = 'closing'): void {
	try {
		ws.close(code, reason);
	} catch {
		// Already closed.
	}
}
