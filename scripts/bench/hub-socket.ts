// A person's user-hub socket (`/ws/me`), as the app's layout keeps one per tab: the sidebar's
// signals (a room's unread change, a mention, a direct message) arrive here. Counts what it gets.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { reconnectDelay } from '../../src/lib/client/backoff.ts';
import type { Account } from '../lib/parley-client.ts';

export type RoomSignal = { roomId: string; seq: number; reason: string; at: number };

const MAX_ATTEMPTS = 8;

export class HubSocket {
	readonly account: Account;
	readonly base: string;
	welcomed = false;
	welcomedAt = 0;
	/** Reconnect after a drop, with the app's backoff, until this time (performance.now()). */
	reconnectUntil = 0;
	malformed = 0;
	#ws: WebSocket | null = null;
	#onSignal: (signal: RoomSignal) => void;

	constructor(base: string, account: Account, onSignal: (signal: RoomSignal) => void) {
		this.base = base;
		this.account = account;
		this.#onSignal = onSignal;
	}

	get open(): boolean {
		return this.#ws !== null && this.#ws.readyState === 1;
	}

	/** Opens the socket through the door; resolves on the hub's welcome. */
	connect(timeoutMs = 30_000): Promise<void> {
		const url = new URL('/ws/me', this.base);
		url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
		const ws = new WebSocket(url, {
			headers: { cookie: this.account.cookie },
			perMessageDeflate: false,
			skipUTF8Validation: true,
			handshakeTimeout: timeoutMs
		});
		this.#ws = ws;
		this.welcomed = false;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				ws.terminate();
				reject(new Error('no hub welcome'));
			}, timeoutMs);
			ws.on('message', (data) => {
				const now = performance.now();
				let frames: unknown;
				try {
					frames = JSON.parse(data.toString());
				} catch {
					this.malformed++;
					return;
				}
				for (const frame of Array.isArray(frames) ? frames : [frames]) {
					const f = frame as { type?: unknown; roomId?: unknown; seq?: unknown; reason?: unknown };
					if (f.type === 'welcome' && !this.welcomed) {
						this.welcomed = true;
						this.welcomedAt = now;
						clearTimeout(timer);
						resolve();
					} else if (f.type === 'room') {
						if (typeof f.roomId !== 'string' || typeof f.seq !== 'number') this.malformed++;
						else
							this.#onSignal({ roomId: f.roomId, seq: f.seq, reason: String(f.reason), at: now });
					}
				}
			});
			ws.on('error', () => {});
			ws.on('unexpected-response', (_req, res) => {
				res.resume();
				clearTimeout(timer);
				ws.terminate();
				reject(new Error(`hub upgrade refused: ${res.statusCode}`));
			});
			ws.on('close', () => {
				clearTimeout(timer);
				const established = this.welcomed;
				this.welcomed = false;
				if (this.#ws === ws) this.#ws = null;
				if (!established) reject(new Error('hub closed before welcome'));
				else if (performance.now() < this.reconnectUntil) void this.#reconnect(0);
			});
		});
	}

	async connectWithRetry(deadline: number): Promise<boolean> {
		for (let attempt = 0; attempt < MAX_ATTEMPTS && performance.now() < deadline; attempt++) {
			try {
				await this.connect();
				return true;
			} catch {
				await new Promise((r) => setTimeout(r, reconnectDelay(attempt)));
			}
		}
		return false;
	}

	async #reconnect(attempt: number): Promise<void> {
		if (attempt >= MAX_ATTEMPTS) return;
		await new Promise((r) => setTimeout(r, reconnectDelay(attempt)));
		try {
			await this.connect();
		} catch {
			if (performance.now() < this.reconnectUntil) await this.#reconnect(attempt + 1);
		}
	}

	/** Drops the connection abruptly, as a restart or a lost network does. */
	drop(): void {
		this.#ws?.terminate();
	}

	close(): void {
		this.reconnectUntil = 0;
		const ws = this.#ws;
		this.#ws = null;
		if (ws && ws.readyState <= 1) ws.close(1000, 'bench done');
	}
}
