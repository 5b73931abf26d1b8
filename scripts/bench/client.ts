// The load client: many authenticated room sockets in one process, each behaving like the app's
// own connection (hello with its last seq, an outbox resent after a reconnect, jittered backoff,
// heartbeats), and counting what arrives without a per-receipt allocation where it can.
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { reconnectDelay } from '../../src/lib/client/backoff.ts';
import { PING } from '../../shared/protocol/heartbeat.ts';
import { openRoomSocket, UpgradeError, type Account } from '../lib/parley-client.ts';
import type { Frame, Hub, Json } from './hub.ts';
import type { Recorder } from './recorder.ts';

function toBuffer(data: WebSocket.RawData): Buffer {
	if (Buffer.isBuffer(data)) return data;
	if (Array.isArray(data)) return Buffer.concat(data);
	return Buffer.from(data);
}

function isMessage(value: unknown): value is { seq: number; clientId: string } {
	if (typeof value !== 'object' || value === null) return false;
	const m = value as Json;
	return typeof m.seq === 'number' && typeof m.clientId === 'string';
}

const MAX_ATTEMPTS = 8;

export class BenchClient {
	readonly slot: number;
	readonly account: Account;
	readonly hub: Hub;
	/** Every seq up to this one has arrived (or was known before hello). */
	lastSeq = 0;
	/** The seq this client said hello with when the current run started: what it must get after. */
	baseSeq = 0;
	welcomed = false;
	/** When the last connection attempt started and when its welcome came. */
	connectStartedAt = 0;
	welcomedAt = 0;
	/** When the client had every message up to the room's seq at its welcome. */
	caughtUpAt = 0;
	/** Keep coming back after the socket drops, like the app's connection does. */
	reconnect = false;
	attempts = 0;

	#welcomeWaiter: (() => void) | null = null;
	#ws: WebSocket | null = null;
	#ahead: Set<number> | null = null;
	#welcomeSeq = 0;
	#maxBeforeWelcome = 0;
	/** Unacknowledged sends by clientId: resent with the same clientId after a reconnect. */
	#outbox = new Map<string, string>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	#deadline = Infinity;

	constructor(slot: number, account: Account, hub: Hub) {
		this.slot = slot;
		this.account = account;
		this.hub = hub;
	}

	get open(): boolean {
		return this.#ws !== null && this.#ws.readyState === 1;
	}

	get pending(): number {
		return this.#outbox.size;
	}

	/** Opens the socket through the door and says hello; resolves on the welcome. */
	async connect(timeoutMs = 15_000): Promise<void> {
		clearTimeout(this.#timer);
		this.welcomed = false;
		this.#maxBeforeWelcome = 0;
		this.connectStartedAt = performance.now();
		const ws = await openRoomSocket(
			this.hub.base,
			this.account,
			this.hub.roomId,
			timeoutMs,
			(data) => this.#receive(toBuffer(data))
		);
		this.#ws = ws;
		ws.on('close', () => this.#closed(ws));
		ws.send(`{"type":"hello","lastSeq":${this.lastSeq}}`);
		for (const frame of this.#outbox.values()) ws.send(frame);
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				cleanup();
				reject(new Error('no welcome'));
			}, timeoutMs);
			const onClose = () => {
				cleanup();
				reject(new Error('closed before welcome'));
			};
			const cleanup = () => {
				clearTimeout(timer);
				ws.off('close', onClose);
				this.#welcomeWaiter = null;
			};
			ws.once('close', onClose);
			this.#welcomeWaiter = () => {
				cleanup();
				resolve();
			};
		});
	}

	/** Connects, retrying with full-jitter backoff until `deadline` (performance.now() time). */
	async connectWithRetry(deadline: number): Promise<boolean> {
		this.#deadline = deadline;
		for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
			this.attempts++;
			try {
				await this.connect(Math.max(1000, Math.min(60_000, deadline - performance.now())));
				return true;
			} catch (error) {
				this.#noteFailure(error);
				this.#ws?.terminate();
				this.#ws = null;
				const wait = reconnectDelay(attempt);
				if (performance.now() + wait >= deadline) return false;
				await new Promise((resolve) => setTimeout(resolve, wait));
			}
		}
		return false;
	}

	/** Sends message `n` of the recorder's run, or keeps it in the outbox until the socket is back. */
	send(recorder: Recorder, n: number, body: string): void {
		const clientId = recorder.clientId(n);
		const frame = `{"type":"send","clientId":"${clientId}","body":${JSON.stringify(body)}}`;
		this.#outbox.set(clientId, frame);
		if (this.open) this.#ws!.send(frame);
	}

	/** Any other frame the app sends (typing, read), if the socket is open. */
	sendFrame(json: string): void {
		if (this.open) this.#ws!.send(json);
	}

	ping(): void {
		if (!this.open) return;
		this.hub.pings++;
		this.#ws!.send(PING);
	}

	/** Drops the connection abruptly, as a lost network does. */
	drop(): void {
		this.#ws?.terminate();
	}

	/** Leaves for good: no reconnect. */
	close(): void {
		this.reconnect = false;
		clearTimeout(this.#timer);
		const ws = this.#ws;
		this.#ws = null;
		if (ws && ws.readyState <= 1) ws.close(1000, 'bench done');
	}

	/** Forgets what it knew, as a browser that loads the page anew at `seq`. */
	resetTo(seq: number): void {
		this.lastSeq = seq;
		this.baseSeq = seq;
		this.#ahead = null;
		this.#outbox.clear();
		this.caughtUpAt = 0;
	}

	/** Messages that arrived ahead of a missing one. */
	get aheadCount(): number {
		return this.#ahead?.size ?? 0;
	}

	#noteFailure(error: unknown): void {
		const reason =
			error instanceof UpgradeError
				? error.status !== null
					? `http ${error.status}`
					: error.message
				: error instanceof Error
					? error.message
					: String(error);
		this.hub.noteUpgradeFailure(reason);
	}

	#closed(ws: WebSocket): void {
		if (this.#ws !== ws) return;
		this.#ws = null;
		const established = this.welcomed;
		this.welcomed = false;
		// A socket that drops before its welcome is the connect attempt's failure, retried there.
		if (this.reconnect && established) this.#scheduleReconnect(0);
	}

	#scheduleReconnect(attempt: number): void {
		const wait = reconnectDelay(attempt);
		if (attempt >= MAX_ATTEMPTS || performance.now() + wait >= this.#deadline) return;
		this.#timer = setTimeout(() => {
			this.attempts++;
			// A browser waits for a slow handshake rather than giving up after a few seconds, and
			// giving up early only leaves the server working on upgrades nobody waits for.
			this.connect(60_000).catch((error: unknown) => {
				this.#noteFailure(error);
				const ws = this.#ws;
				this.#ws = null;
				ws?.terminate();
				if (this.reconnect) this.#scheduleReconnect(attempt + 1);
			});
		}, wait);
	}

	/** Reconnect automatically after drops until `deadline` (performance.now() time). */
	keepConnected(deadline: number): void {
		this.reconnect = true;
		this.#deadline = deadline;
	}

	#receive(data: Buffer): void {
		const now = performance.now();
		const hub = this.hub;
		const frames = hub.cache.parse(data);
		if (!frames) {
			hub.malformed++;
			return;
		}
		let welcomed = false;
		for (let i = 0; i < frames.length; i++) {
			const frame = frames[i]!;
			switch (frame.type) {
				case 'message':
					if (isMessage(frame.message)) this.#message(frame.message, now, false);
					else hub.malformed++;
					break;
				case 'backlog': {
					const messages = frame.messages;
					if (!Array.isArray(messages)) {
						hub.malformed++;
						break;
					}
					for (const message of messages) {
						if (isMessage(message)) this.#message(message, now, true);
						else hub.malformed++;
					}
					if (frame.more === true) hub.truncatedBacklogs++;
					this.#checkCaughtUp(now);
					break;
				}
				case 'ack':
					this.#ack(frame, now);
					break;
				case 'welcome':
					welcomed = this.#welcome(frame, now);
					break;
				case 'pong':
					hub.pongs++;
					break;
				case 'error':
					this.#error(frame);
					break;
				default:
				// Presence, typing, receipts and whatever comes next: not this bench's business.
			}
		}
		// After the whole payload: a backlog that came with the welcome is in by now.
		if (welcomed) this.#welcomeWaiter?.();
	}

	#welcome(frame: Frame, now: number): boolean {
		if (typeof frame.lastSeq !== 'number') {
			this.hub.malformed++;
			return false;
		}
		this.welcomed = true;
		this.welcomedAt = now;
		this.#welcomeSeq = frame.lastSeq;
		if (frame.lastSeq > this.hub.roomSeq) this.hub.roomSeq = frame.lastSeq;
		this.#checkCaughtUp(now);
		return true;
	}

	#checkCaughtUp(now: number): void {
		if (this.welcomed && this.caughtUpAt === 0 && this.lastSeq >= this.#welcomeSeq) {
			this.caughtUpAt = now;
		}
	}

	#ack(frame: Frame, now: number): void {
		const clientId = frame.clientId;
		const seq = frame.seq;
		if (typeof clientId !== 'string' || typeof seq !== 'number') {
			this.hub.malformed++;
			return;
		}
		this.#outbox.delete(clientId);
		if (seq > this.hub.roomSeq) this.hub.roomSeq = seq;
		const recorder = this.hub.recorder;
		if (!recorder) return;
		const n = recorder.indexOf(clientId);
		if (n >= 0) recorder.onAck(n, seq, now);
	}

	#error(frame: Frame): void {
		const code = typeof frame.code === 'string' ? frame.code : 'unknown';
		const clientId = frame.clientId;
		this.hub.noteError(code);
		if (typeof clientId === 'string') {
			// The room refused this send for good (the bench does not retry refused sends).
			this.#outbox.delete(clientId);
			const recorder = this.hub.recorder;
			const n = recorder ? recorder.indexOf(clientId) : -1;
			if (n >= 0) recorder!.onRefused(n, code);
		}
	}

	#message(message: { seq: number; clientId: string }, now: number, fromBacklog: boolean): void {
		const hub = this.hub;
		const seq = message.seq;
		if (seq > hub.roomSeq) hub.roomSeq = seq;
		if (seq <= this.lastSeq || this.#ahead?.has(seq)) {
			hub.duplicates++;
			if (fromBacklog && seq <= this.#maxBeforeWelcome) hub.duplicatesBeforeWelcome++;
			return;
		}
		if (!this.welcomed && seq > this.#maxBeforeWelcome) this.#maxBeforeWelcome = seq;
		if (seq === this.lastSeq + 1) {
			this.lastSeq = seq;
			const ahead = this.#ahead;
			if (ahead && ahead.size > 0) {
				while (ahead.delete(this.lastSeq + 1)) this.lastSeq++;
			}
			// What the welcome promised can also arrive after it, in the room's next broadcast.
			this.#checkCaughtUp(now);
		} else {
			hub.outOfOrder++;
			(this.#ahead ??= new Set()).add(seq);
		}
		const recorder = hub.recorder;
		if (!recorder) return;
		const n = recorder.indexOf(message.clientId);
		if (n >= 0) recorder.onDelivery(n, this.slot, now, fromBacklog);
	}
}
