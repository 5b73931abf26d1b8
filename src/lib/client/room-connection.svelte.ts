import {
	PING,
	PONG,
	checkMessageBody,
	parseServerPayload,
	type ChatMessage,
	type ServerFrame
} from '$lib/protocol';
import { CloseCode } from '$lib/protocol';

export type ConnectionState = 'connecting' | 'open' | 'offline' | 'closed';

/** One of my messages the room has not confirmed yet. */
export type PendingMessage = {
	clientId: string;
	body: string;
	createdAt: number;
	status: 'pending' | 'sent' | 'failed';
	error?: string;
};

const HEARTBEAT_MS = 25_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/**
 * The browser's side of one room: owns the socket, reconnects with jittered exponential backoff,
 * resumes from the last `seq` it has without a gap, and resends unconfirmed messages with their
 * original `clientId` (the room answers a resend with the original `seq`, so nothing doubles).
 */
export class RoomConnection {
	messages = $state<ChatMessage[]>([]);
	pending = $state<PendingMessage[]>([]);
	state = $state<ConnectionState>('connecting');
	notice = $state<string | null>(null);

	#roomId: string;
	#userId: string;
	#socket: WebSocket | null = null;
	// Bookkeeping only: what renders is `messages`, so this need not be reactive.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#seqs = new Set<number>();
	/** Every message up to this seq (from where history starts) is known: what `hello` asks after. */
	#lastSeq: number;
	#attempt = 0;
	#reconnectTimer: ReturnType<typeof setTimeout> | undefined;
	#heartbeatTimer: ReturnType<typeof setInterval> | undefined;
	#pongTimer: ReturnType<typeof setTimeout> | undefined;
	#stopped = false;

	constructor(roomId: string, userId: string, history: ChatMessage[]) {
		this.#roomId = roomId;
		this.#userId = userId;
		this.#lastSeq = history.at(-1)?.seq ?? 0;
		for (const message of history) this.#insert(message);
	}

	get lastSeq(): number {
		return this.#lastSeq;
	}

	connect(): void {
		this.#stopped = false;
		window.addEventListener('online', this.#onOnline);
		window.addEventListener('offline', this.#onOffline);
		this.#open();
	}

	close(): void {
		this.#stopped = true;
		window.removeEventListener('online', this.#onOnline);
		window.removeEventListener('offline', this.#onOffline);
		clearTimeout(this.#reconnectTimer);
		this.#stopHeartbeat();
		this.#socket?.close(1000, 'leaving');
		this.#socket = null;
		this.state = 'closed';
	}

	/** Queues a message and sends it when the socket is open. Returns an error for bad input. */
	send(body: string): string | null {
		const invalid = checkMessageBody(body);
		if (invalid) return invalid.message;
		const message: PendingMessage = {
			clientId: crypto.randomUUID(),
			body,
			createdAt: Date.now(),
			status: 'pending'
		};
		this.pending.push(message);
		this.#transmit(message);
		return null;
	}

	retry(clientId: string): void {
		const message = this.pending.find((m) => m.clientId === clientId);
		if (!message) return;
		message.status = 'pending';
		message.error = undefined;
		this.#transmit(message);
	}

	discard(clientId: string): void {
		this.pending = this.pending.filter((m) => m.clientId !== clientId);
	}

	#open(): void {
		clearTimeout(this.#reconnectTimer);
		this.state = 'connecting';
		// eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local, not state
		const url = new URL(`/ws/room/${this.#roomId}`, location.href);
		url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
		const socket = new WebSocket(url);
		this.#socket = socket;
		socket.onopen = () => {
			this.#attempt = 0;
			this.state = 'open';
			this.notice = null;
			socket.send(JSON.stringify({ type: 'hello', lastSeq: this.#lastSeq }));
			for (const message of this.pending) if (message.status !== 'failed') this.#transmit(message);
			this.#startHeartbeat(socket);
		};
		socket.onmessage = (event) => this.#receive(event.data);
		socket.onclose = (event) => {
			if (this.#socket !== socket) return;
			this.#socket = null;
			this.#stopHeartbeat();
			if (this.#stopped) return;
			if (event.code === CloseCode.Removed || event.code === CloseCode.RoomGone) {
				this.state = 'closed';
				this.notice = 'You no longer have access to this room.';
				return;
			}
			this.#scheduleReconnect();
		};
	}

	#scheduleReconnect(): void {
		this.state = 'offline';
		// Full jitter: after a deploy every client reconnects, and they must not do it in step.
		const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
		this.#attempt++;
		this.#reconnectTimer = setTimeout(() => this.#open(), Math.random() * ceiling);
	}

	#transmit(message: PendingMessage): void {
		if (this.#socket?.readyState !== WebSocket.OPEN) return;
		this.#socket.send(
			JSON.stringify({ type: 'send', clientId: message.clientId, body: message.body })
		);
	}

	#receive(data: unknown): void {
		if (typeof data !== 'string') return;
		if (data === PONG) {
			clearTimeout(this.#pongTimer);
			return;
		}
		const parsed = parseServerPayload(data);
		if (!parsed.ok) {
			console.warn('ignored a malformed frame from the room', parsed.error);
			return;
		}
		for (const frame of parsed.frame) this.#handle(frame);
	}

	#handle(frame: ServerFrame): void {
		switch (frame.type) {
			case 'welcome':
				return;
			case 'message':
				return this.#insert(frame.message);
			case 'backlog':
				for (const message of frame.messages) this.#insert(message);
				if (frame.more) void this.#pageForward();
				return;
			case 'ack': {
				const message = this.pending.find((m) => m.clientId === frame.clientId);
				if (message) message.status = 'sent';
				if (this.#seqs.has(frame.seq)) this.discard(frame.clientId);
				return;
			}
			case 'error': {
				const message = frame.clientId
					? this.pending.find((m) => m.clientId === frame.clientId)
					: undefined;
				if (message) {
					message.status = 'failed';
					message.error = frame.message;
				} else {
					this.notice = frame.message;
				}
				return;
			}
		}
	}

	/** More was missed than the socket sends at once: fetch the rest over HTTP. */
	async #pageForward(): Promise<void> {
		for (;;) {
			const response = await fetch(`/api/rooms/${this.#roomId}/messages?after=${this.#lastSeq}`);
			if (!response.ok) return;
			const page = (await response.json()) as { messages: ChatMessage[]; hasMore: boolean };
			for (const message of page.messages) this.#insert(message);
			if (!page.hasMore || page.messages.length === 0) return;
		}
	}

	#insert(message: ChatMessage): void {
		if (this.#seqs.has(message.seq)) return;
		this.#seqs.add(message.seq);
		const list = this.messages;
		let i = list.length;
		while (i > 0 && list[i - 1]!.seq > message.seq) i--;
		list.splice(i, 0, message);
		while (this.#seqs.has(this.#lastSeq + 1)) this.#lastSeq++;
		if (message.senderId === this.#userId) this.discard(message.clientId);
	}

	/** Gives up on a socket that stopped answering, without waiting for a close handshake. */
	#drop(socket: WebSocket): void {
		if (this.#socket !== socket) return;
		this.#socket = null;
		this.#stopHeartbeat();
		socket.close(4000, 'heartbeat timeout');
		if (!this.#stopped) this.#scheduleReconnect();
	}

	/** The browser knows the network is gone: say so now rather than after a heartbeat timeout. */
	#onOffline = (): void => {
		if (this.#socket) this.#drop(this.#socket);
	};

	#onOnline = (): void => {
		if (this.state === 'offline') {
			this.#attempt = 0;
			this.#open();
		}
	};

	#startHeartbeat(socket: WebSocket): void {
		this.#stopHeartbeat();
		this.#heartbeatTimer = setInterval(() => {
			if (socket.readyState !== WebSocket.OPEN) return;
			socket.send(PING);
			// A laptop lid closed for an hour leaves a socket that looks open: detect it and resume.
			this.#pongTimer = setTimeout(() => this.#drop(socket), HEARTBEAT_TIMEOUT_MS);
		}, HEARTBEAT_MS);
	}

	#stopHeartbeat(): void {
		clearInterval(this.#heartbeatTimer);
		clearTimeout(this.#pongTimer);
	}
}
