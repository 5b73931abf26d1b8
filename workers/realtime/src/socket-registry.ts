import { CloseCode, FRAME_RATE, MAX_ROOM_SOCKETS_PER_USER } from '../../../shared/protocol';
import { sessionTag, sessionTags, type Identity, type MemberRole } from '../../../shared/identity';
import type { Fanout } from './fanout';
import type { PresenceBook } from './presence';
import { TokenBucket } from './rate-limit';

/** Per-socket state that must survive hibernation. Keep it small. */
export type Attachment = {
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
	/** Opened with a read-only API token: its changes are refused. */
	readOnly?: true;
	/** Its user is a bot: what it sends is marked so. */
	bot?: true;
	/**
	 * The close code, once the room decided to close this socket (removed, signed out, room gone,
	 * turned away). From that moment its frames change nothing, even though the runtime keeps
	 * delivering them until the client answers the close frame, and even after a wake: memory
	 * is gone then, this mark is not.
	 */
	closed?: number;
};

export type Socket = Attachment & {
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

/** What the registry needs of the object's state: the runtime's hibernatable sockets. */
export type SocketHost = Pick<DurableObjectState, 'acceptWebSocket' | 'getWebSockets'>;

/** What a person turned away at the room's socket cap reads (the close reason, at most 123 bytes). */
export const TOO_MANY_CONNECTIONS = 'Too many open connections to this room; close some tabs.';

/**
 * The room's sockets: each one's state in memory, the part of it that must survive hibernation in
 * its attachment, and its tags (user, session), by which the room closes all of a person's or a
 * session's sockets. Tracking a socket counts it in presence and subscribes it to the fan-out;
 * forgetting it undoes both and tells the room (`left`), which decides what its user's leaving means.
 */
export class SocketRegistry {
	#host: SocketHost;
	#presence: PresenceBook;
	#fanout: Fanout;
	#left: (socket: Socket) => void;
	#sockets = new Map<WebSocket, Socket>();

	constructor(
		host: SocketHost,
		presence: PresenceBook,
		fanout: Fanout,
		left: (socket: Socket) => void
	) {
		this.#host = host;
		this.#presence = presence;
		this.#fanout = fanout;
		this.#left = left;
	}

	/**
	 * Waking from hibernation: the sockets are still there, the memory is not. A socket closed
	 * by a decision stays in the runtime until its client answers; it is not taken back.
	 */
	wake(): void {
		for (const ws of this.#host.getWebSockets()) {
			const attachment = ws.deserializeAttachment() as Attachment | null;
			if (attachment && attachment.closed === undefined) this.#track(ws, attachment);
		}
	}

	/**
	 * Accepts a new socket for this identity. It gets every broadcast after `from`'s position (the
	 * message store's, read once what is queued went out to the others). A person who holds
	 * MAX_ROOM_SOCKETS_PER_USER already has it accepted only to be closed (null).
	 */
	accept(
		ws: WebSocket,
		identity: Identity,
		from: { readonly lastSeq: number; readonly rev: number }
	): Socket | null {
		if (this.#presence.sockets(identity.userId) >= MAX_ROOM_SOCKETS_PER_USER) {
			// Accepted only to be closed: a browser cannot read the status of a refused upgrade,
			// and would retry at once; a close code and reason it can show. Untagged and marked
			// closed, it is nobody's socket, even after a wake.
			this.#host.acceptWebSocket(ws);
			ws.serializeAttachment({ closed: CloseCode.TooManyConnections });
			closeQuietly(ws, CloseCode.TooManyConnections, TOO_MANY_CONNECTIONS);
			return null;
		}
		this.#host.acceptWebSocket(ws, [userTag(identity.userId), ...sessionTags(identity)]);
		// What is queued goes to those already here; this socket gets every broadcast after it.
		this.#fanout.flush();
		const attachment: Attachment = {
			userId: identity.userId,
			userName: identity.userName,
			username: identity.username,
			role: identity.role,
			receipts: identity.readReceipts,
			away: false,
			fromSeq: from.lastSeq,
			fromRev: from.rev,
			...(identity.readOnly ? { readOnly: true as const } : {}),
			...(identity.bot ? { bot: true as const } : {})
		};
		ws.serializeAttachment(attachment);
		return this.#track(ws, attachment);
	}

	/**
	 * The socket's state, or null for one the room no longer serves: closed by a decision (marked
	 * in its attachment, so also after a wake) or closing. Its frames then change nothing.
	 */
	get(ws: WebSocket): Socket | null {
		const known = this.#sockets.get(ws);
		if (known) return known;
		const attachment = ws.deserializeAttachment() as Attachment | null;
		if (!attachment || attachment.closed !== undefined) return null;
		if (ws.readyState !== WebSocket.OPEN) return null;
		return this.#track(ws, attachment);
	}

	/** Whether the reader on this socket shares read positions, and so sees others'. */
	readerShares(ws: WebSocket): boolean {
		return this.#sockets.get(ws)?.receipts !== false;
	}

	/** Writes what must survive hibernation of the socket's state to its attachment. */
	save(ws: WebSocket, socket: Socket): void {
		ws.serializeAttachment(attachmentOf(socket));
	}

	/** The tab was hidden or shown again. Returns whether that changed anything. */
	setAway(ws: WebSocket, socket: Socket, away: boolean): boolean {
		if (socket.away === away) return false;
		this.#presence.setAway(socket.userId, socket.away, away);
		socket.away = away;
		this.save(ws, socket);
		return true;
	}

	/** A member's role or privacy setting changed: their open sockets follow now. */
	update(userId: string, change: { role?: MemberRole; readReceipts?: boolean }): void {
		for (const ws of this.#host.getWebSockets(userTag(userId))) {
			const socket = this.get(ws);
			if (!socket) continue;
			if (change.role) socket.role = change.role;
			if (change.readReceipts !== undefined) socket.receipts = change.readReceipts;
			this.save(ws, socket);
		}
	}

	/** A socket closed or was closed: it gets nothing more, and its user may now be offline. */
	forget(ws: WebSocket): void {
		const socket = this.#sockets.get(ws);
		if (!socket) return;
		this.#sockets.delete(ws);
		this.#fanout.unsubscribe(ws);
		this.#presence.remove(socket.userId, socket.away);
		this.#left(socket);
	}

	/** Closes every socket of a user; answers how many. */
	closeUser(userId: string, code: number, reason: string): number {
		return this.#closeEach(this.#host.getWebSockets(userTag(userId)), code, reason);
	}

	/** Closes every socket of these sessions; answers how many. */
	closeSessions(sessionIds: string[], code: number, reason: string): number {
		let closed = 0;
		for (const sessionId of sessionIds) {
			closed += this.#closeEach(this.#host.getWebSockets(sessionTag(sessionId)), code, reason);
		}
		return closed;
	}

	/** Closes every socket, the ones closed by a decision already included; answers how many. */
	closeAll(code: number, reason: string): number {
		return this.#closeEach(this.#host.getWebSockets(), code, reason);
	}

	#closeEach(sockets: WebSocket[], code: number, reason: string): number {
		for (const ws of sockets) this.#closeByDecision(ws, code, reason);
		return sockets.length;
	}

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
		this.forget(ws);
		closeQuietly(ws, code, reason);
	}
}

function userTag(userId: string): string {
	return `user:${userId}`;
}

function attachmentOf(socket: Socket): Attachment {
	const { frames: _frames, toldLastSeen: _told, held: _held, ...attachment } = socket;
	return attachment;
}

export function closeQuietly(ws: WebSocket, code: number, reason = 'closing'): void {
	try {
		ws.close(code, reason);
	} catch {
		// Already closed.
	}
}
