// One scenario's clients in one room: connecting them through the door, and the app's heartbeat.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../lib/parley-client.ts';
import { BenchClient } from './client.ts';
import { Hub } from './hub.ts';
import type { Context } from './context.ts';
import { log } from './log.ts';

const CONNECT_CONCURRENCY = 16;

/**
 * The room's sustained send limit per user (SEND_RATE in the protocol module, which the bench cannot
 * import: Node's type stripping needs explicit file extensions, the app's modules leave them out).
 */
const SEND_LIMIT_PER_SECOND = 5;

/**
 * Spreads `count` senders evenly over the clients; more if the rate would push one sender past the
 * room's per-user send limit (the bench measures the room, not its rate limiter).
 */
export function pickSenders(clients: BenchClient[], count: number, rate: number): BenchClient[] {
	const needed = Math.ceil(rate / (SEND_LIMIT_PER_SECOND * 0.8));
	if (needed > count)
		log(`${needed} senders instead of ${count}: ${rate} msg/s within the send limit`);
	const n = Math.max(1, Math.min(Math.max(count, needed), clients.length));
	const step = clients.length / n;
	return Array.from({ length: n }, (_, i) => clients[Math.floor(i * step)]!);
}

export class Session {
	readonly hub: Hub;
	readonly clients: BenchClient[];
	#heartbeat: ReturnType<typeof setInterval> | undefined;

	constructor(ctx: Context, room: string, accounts: Account[]) {
		const roomId = ctx.rooms[room];
		if (!roomId) throw new Error(`no room seeded for ${room}`);
		this.hub = new Hub(ctx.base, roomId);
		this.clients = accounts.map((account, slot) => new BenchClient(slot, account, this.hub));
	}

	/** Connects clients (bounded concurrency, retries) and waits for every welcome. */
	async connect(
		clients: BenchClient[],
		signal: AbortSignal
	): Promise<{ connected: BenchClient[]; failed: number; ms: number }> {
		const started = performance.now();
		const deadline = started + 120_000;
		const connected: BenchClient[] = [];
		let failed = 0;
		let next = 0;
		const worker = async () => {
			while (next < clients.length && !signal.aborted) {
				const client = clients[next++]!;
				if (await client.connectWithRetry(deadline)) connected.push(client);
				else failed++;
			}
		};
		await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
		signal.throwIfAborted();
		const ms = performance.now() - started;
		log(`${connected.length} sockets open through the door in ${(ms / 1000).toFixed(1)} s`);
		if (failed > 0)
			log(`${failed} clients could not connect: ${describe(this.hub.upgradeFailures)}`);
		if (connected.length === 0) {
			throw new Error(`no client could connect: ${describe(this.hub.upgradeFailures)}`);
		}
		connected.sort((a, b) => a.slot - b.slot);
		return { connected, failed, ms };
	}

	/** Pings like the app does (every 25 s per socket), spread over the seconds. */
	startHeartbeat(): void {
		let tick = 0;
		this.#heartbeat = setInterval(() => {
			tick++;
			for (const client of this.clients) if (client.slot % 25 === tick % 25) client.ping();
		}, 1000);
	}

	async close(): Promise<void> {
		clearInterval(this.#heartbeat);
		for (const client of this.clients) client.close();
		// Give the room a moment to see the closes before the next scenario loads it again.
		const deadline = performance.now() + 5000;
		while (this.clients.some((c) => c.open) && performance.now() < deadline) await sleep(50);
		await sleep(500);
	}
}

function describe(counts: Map<string, number>): string {
	return [...counts].map(([k, v]) => `${k} x${v}`).join(', ') || 'none';
}
