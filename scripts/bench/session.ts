// What every scenario does with its clients in its room, around its own steps: connecting them
// through the door, the app's heartbeat, the warm-up message, pacing the sends, waiting for
// delivery, and the figures every result line carries. The CPU side of a result is in meter.ts.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../lib/parley-client.ts';
import { BenchClient } from './client.ts';
import { Hub } from './hub.ts';
import type { Context, Settings } from './context.ts';
import { log } from './log.ts';
import { Recorder } from './recorder.ts';
import { round } from './stats.ts';

const CONNECT_CONCURRENCY = 16;
const DRAIN_MS = 10_000;
/** After a warm-up message: long enough for the room's first flush to D1 to have run too. */
const WARMUP_SETTLE_MS = 1000;

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

/** One scenario's clients in one room. */
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

	/**
	 * Counts what happens next with `recorder`: from here on, `clients` are owed every message it
	 * sends (and nothing the room had before).
	 */
	track(recorder: Recorder, clients: BenchClient[]): void {
		this.hub.recorder = recorder;
		for (const client of clients) client.baseSeq = client.lastSeq;
	}

	/**
	 * One unmeasured message before the measured messages. A room's first message pays one-off costs
	 * that a room in use does not: reading its member list from D1, compiling the send path, setting
	 * up the first flush. Those are not the steady state, so they are kept out of the figures and the
	 * warm-up's own worst latency is reported beside them (`warmupMaxMs`).
	 */
	async warmUp(sender: BenchClient, clients: BenchClient[], signal: AbortSignal): Promise<number> {
		const recorder = new Recorder(1, this.clients.length, 30);
		this.track(recorder, clients);
		const n = recorder.issue(performance.now());
		if (n === null) return 0;
		sender.send(recorder, n, body(n));
		await drain(recorder, clients, signal);
		await sleep(WARMUP_SETTLE_MS, undefined, { signal });
		this.hub.recorder = null;
		return recorder.latency.max;
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

function body(n: number): string {
	return `Bench message ${n}: the quick brown fox jumps over the lazy dog.`;
}

/**
 * Sends `rate` messages a second, round-robin over the senders, for `durationMs`. The promise is
 * marked handled at once: scenarios await it later, after other steps that may throw first.
 */
export function pace(
	recorder: Recorder,
	senders: BenchClient[],
	rate: number,
	durationMs: number,
	signal: AbortSignal
): Promise<void> {
	const sending = (async () => {
		const start = performance.now();
		const total = Math.min(recorder.capacity, Math.round((rate * durationMs) / 1000));
		let issued = 0;
		while (issued < total) {
			signal.throwIfAborted();
			const now = performance.now();
			const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
			while (issued < due) {
				const n = recorder.issue(now);
				if (n === null) return;
				senders[n % senders.length]!.send(recorder, n, body(n));
				issued++;
			}
			const wait = start + (issued * 1000) / rate - performance.now();
			if (wait > 0) await sleep(wait, undefined, { signal });
		}
	})();
	sending.catch(() => {});
	return sending;
}

function bases(clients: BenchClient[]) {
	return clients.map((c) => ({ slot: c.slot, baseSeq: c.baseSeq }));
}

/** Waits until every message is acknowledged and has reached everyone, or the time is up. */
export async function drain(
	recorder: Recorder,
	clients: BenchClient[],
	signal: AbortSignal,
	timeoutMs = DRAIN_MS
): Promise<boolean> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const { expected } = recorder.expectedFor(bases(clients));
		if (recorder.acked + recorder.refused >= recorder.sent && recorder.delivered >= expected) {
			return true;
		}
		if (performance.now() >= deadline) return false;
		await sleep(100, undefined, { signal });
	}
}

/** The figures every scenario reports, in the order of the result line. */
export function figures(recorder: Recorder, clients: BenchClient[], hub: Hub) {
	const { expected, lost } = recorder.expectedFor(bases(clients));
	return {
		clients: clients.length,
		sent: recorder.sent,
		delivered: recorder.delivered,
		lost,
		p50: round(recorder.latency.quantile(0.5)),
		p95: round(recorder.latency.quantile(0.95)),
		p99: round(recorder.latency.quantile(0.99)),
		deliveriesPerSec: Math.round(recorder.deliveriesPerSec()),
		expected,
		max: round(recorder.latency.max),
		acked: recorder.acked,
		ackP50: round(recorder.ackLatency.quantile(0.5)),
		ackP99: round(recorder.ackLatency.quantile(0.99)),
		peakDeliveriesPerSec: recorder.perSecond.peak(),
		duplicates: hub.duplicates,
		pings: hub.pings,
		pongs: hub.pongs,
		sendErrors: recorder.errorSummary(),
		malformed: hub.malformed || undefined
	};
}

export function settingsOf(s: Settings) {
	return { senders: s.senders, rate: s.rate, durationS: s.duration };
}
