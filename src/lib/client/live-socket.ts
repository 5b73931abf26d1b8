import { PING, PONG } from '$shared/protocol';
import { reconnectDelay } from './backoff';

export type LiveSocketState = 'connecting' | 'open' | 'offline' | 'closed';

export const HEARTBEAT_MS = 25_000;
export const HEARTBEAT_TIMEOUT_MS = 10_000;

/** What a socket was closed with, or dropped with when it stopped answering. */
export type SocketClose = { code: number; reason: string };

/** The part of a browser WebSocket this module uses. */
export interface SocketLike {
	readonly readyState: number;
	send(data: string): void;
	close(code?: number, reason?: string): void;
	onopen: ((event: Event) => void) | null;
	onmessage: ((event: MessageEvent) => void) | null;
	onclose: ((event: CloseEvent) => void) | null;
}

type Timers = Pick<
	typeof globalThis,
	'setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval'
>;

/** Where the socket runs; the browser's own by default, fakes in tests. */
export type LiveSocketEnvironment = {
	WebSocket?: new (url: string) => SocketLike;
	timers?: Timers;
	/** Receives the `online` (and `offline`) events: the window. */
	events?: EventTarget;
	/** Jitter for the reconnect delay. */
	random?: () => number;
};

export type LiveSocketOptions = {
	/** Asked on every connection attempt. */
	url: () => string;
	onState: (state: LiveSocketState) => void;
	/** The socket is open (the state already says so); frames sent now go first. */
	onOpen?: () => void;
	/** Each text frame but the heartbeat's answer. */
	onMessage: (data: string) => void;
	/**
	 * The socket closed, or was dropped. Answers whether to reconnect; when it does not, the
	 * state becomes `closed` for good (until the next `start`).
	 */
	onClose?: (close: SocketClose) => boolean;
	heartbeatMs?: number;
	heartbeatTimeoutMs?: number;
	environment?: LiveSocketEnvironment;
};

/** `WebSocket.OPEN`, fixed by the standard. */
const OPEN = 1;
const TIMEOUT: SocketClose = { code: 4000, reason: 'heartbeat timeout' };

/** A WebSocket URL for a path of this site: `wss:` under `https:`, `ws:` otherwise. */
export function socketUrl(path: string, base: string = location.href): string {
	const url = new URL(path, base);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	return url.href;
}

/**
 * One long-lived socket: opens it, keeps it alive with heartbeats, reconnects after a close with
 * jittered exponential backoff (at once when the network comes back), and stops for good on
 * `stop`. A socket that misses a heartbeat, or is open when the window goes offline, is given up
 * at once rather than after a close handshake that cannot complete. What the frames mean is the
 * owner's business.
 */
export class LiveSocket {
	#options: LiveSocketOptions;
	#state: LiveSocketState = 'connecting';
	#socket: SocketLike | null = null;
	#stopped = true;
	#attempt = 0;
	#reconnectTimer: ReturnType<typeof setTimeout> | undefined;
	#heartbeatTimer: ReturnType<typeof setInterval> | undefined;
	#pongTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(options: LiveSocketOptions) {
		this.#options = options;
	}

	get state(): LiveSocketState {
		return this.#state;
	}

	// The environment is looked up when used, never at construction: owners are built during
	// server rendering too, where there is no window.
	get #timers(): Timers {
		return this.#options.environment?.timers ?? globalThis;
	}

	get #events(): EventTarget {
		return this.#options.environment?.events ?? window;
	}

	start(): void {
		this.#stopped = false;
		this.#events.addEventListener('online', this.#onOnline);
		this.#events.addEventListener('offline', this.#onOffline);
		this.#open();
	}

	stop(): void {
		this.#stopped = true;
		this.#events.removeEventListener('online', this.#onOnline);
		this.#events.removeEventListener('offline', this.#onOffline);
		this.#timers.clearTimeout(this.#reconnectTimer);
		this.#stopHeartbeat();
		this.#socket?.close(1000, 'leaving');
		this.#socket = null;
		this.#setState('closed');
	}

	/** Sends a frame if the socket is open; answers whether it did. */
	send(data: string): boolean {
		if (this.#socket?.readyState !== OPEN) return false;
		this.#socket.send(data);
		return true;
	}

	#setState(state: LiveSocketState): void {
		this.#state = state;
		this.#options.onState(state);
	}

	#open(): void {
		this.#timers.clearTimeout(this.#reconnectTimer);
		this.#setState('connecting');
		const Socket = this.#options.environment?.WebSocket ?? WebSocket;
		const socket = new Socket(this.#options.url());
		this.#socket = socket;
		socket.onopen = () => {
			this.#attempt = 0;
			this.#setState('open');
			this.#options.onOpen?.();
			this.#startHeartbeat(socket);
		};
		socket.onmessage = (event) => this.#receive(event.data);
		socket.onclose = (event) => {
			if (this.#socket !== socket) return;
			this.#socket = null;
			this.#stopHeartbeat();
			this.#afterLoss({ code: event.code, reason: event.reason });
		};
	}

	/** Gives up on a socket that stopped answering, without waiting for a close handshake. */
	#drop(socket: SocketLike): void {
		if (this.#socket !== socket) return;
		this.#socket = null;
		this.#stopHeartbeat();
		socket.close(TIMEOUT.code, TIMEOUT.reason);
		this.#afterLoss(TIMEOUT);
	}

	/** After a close or a drop: reconnect, unless stopped or the owner says the socket is done. */
	#afterLoss(close: SocketClose): void {
		if (this.#stopped) return;
		if (this.#options.onClose?.(close) ?? true) this.#scheduleReconnect();
		else this.#setState('closed');
	}

	#scheduleReconnect(): void {
		this.#setState('offline');
		// Full jitter over a window that doubles: after a deploy every client reconnects, not in step.
		const delay = reconnectDelay(this.#attempt++, this.#options.environment?.random);
		this.#reconnectTimer = this.#timers.setTimeout(() => this.#open(), delay);
	}

	#receive(data: unknown): void {
		if (typeof data !== 'string') return;
		if (data === PONG) {
			this.#timers.clearTimeout(this.#pongTimer);
			return;
		}
		this.#options.onMessage(data);
	}

	/** The browser knows the network is gone: say so now rather than after a heartbeat timeout. */
	#onOffline = (): void => {
		if (this.#socket) this.#drop(this.#socket);
	};

	#onOnline = (): void => {
		if (this.#state === 'offline') {
			this.#attempt = 0;
			this.#open();
		}
	};

	#startHeartbeat(socket: SocketLike): void {
		this.#stopHeartbeat();
		const timers = this.#timers;
		this.#heartbeatTimer = timers.setInterval(() => {
			if (socket.readyState !== OPEN) return;
			socket.send(PING);
			// A laptop lid closed for an hour leaves a socket that looks open: detect it and resume.
			// Its close handshake would never complete either: give up on it at once.
			this.#pongTimer = timers.setTimeout(
				() => this.#drop(socket),
				this.#options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS
			);
		}, this.#options.heartbeatMs ?? HEARTBEAT_MS);
	}

	#stopHeartbeat(): void {
		this.#timers.clearInterval(this.#heartbeatTimer);
		this.#timers.clearTimeout(this.#pongTimer);
	}
}
