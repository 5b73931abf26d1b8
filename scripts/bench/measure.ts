// What the scenarios share around their own steps: pacing the sends, the warm-up message, waiting
// for delivery, the CPU meter, and the figures every result line carries.
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from './client.ts';
import type { Hub } from './hub.ts';
import type { Context, Settings } from './context.ts';
import { log } from './log.ts';
import { machineTicks, treeTicks, cpuPercent } from './server.ts';
import { startProfiling } from './profile.ts';
import { Recorder } from './recorder.ts';
import type { Session } from './session.ts';
import { round } from './stats.ts';

const DRAIN_MS = 10_000;

export function body(n: number): string {
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
	const sending = paceLoop(recorder, senders, rate, durationMs, signal);
	sending.catch(() => {});
	return sending;
}

async function paceLoop(
	recorder: Recorder,
	senders: BenchClient[],
	rate: number,
	durationMs: number,
	signal: AbortSignal
): Promise<void> {
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
}

function bases(clients: BenchClient[]) {
	return clients.map((c) => ({ slot: c.slot, baseSeq: c.baseSeq }));
}

/** After a warm-up message: long enough for the room's first flush to D1 to have run too. */
const WARMUP_SETTLE_MS = 1000;

/**
 * One unmeasured message before the measured messages. A room's first message pays one-off costs
 * that a room in use does not: reading its member list from D1, compiling the send path, setting up
 * the first flush. Those are not the steady state, so they are kept out of the figures and the
 * warm-up's own worst latency is reported beside them (`warmupMaxMs`).
 */
export async function warmUp(
	session: Session,
	sender: BenchClient,
	clients: BenchClient[],
	signal: AbortSignal
): Promise<number> {
	const hub = session.hub;
	const recorder = new Recorder(1, session.clients.length, 30);
	hub.recorder = recorder;
	for (const client of clients) client.baseSeq = client.lastSeq;
	const n = recorder.issue(performance.now());
	if (n === null) return 0;
	sender.send(recorder, n, body(n));
	await drain(recorder, clients, signal);
	await sleep(WARMUP_SETTLE_MS, undefined, { signal });
	hub.recorder = null;
	return recorder.latency.max;
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

/**
 * Where the CPU went over a window, in percent of one core: the load client, the server's
 * processes, and everything else on the machine (other work competes for the same cores).
 */
export async function startMeter(ctx: Context) {
	const loop = monitorEventLoopDelay({ resolution: 10 });
	loop.enable();
	const at = performance.now();
	const bench = process.cpuUsage();
	const server = ctx.serverPid ? await treeTicks(ctx.serverPid) : null;
	const machine = await machineTicks();
	const stopProfiling = ctx.inspector ? await startProfiling(ctx.inspector) : null;
	return async () => {
		const profile = stopProfiling ? await stopProfiling() : undefined;
		for (const p of profile ?? []) {
			log(`profile of ${p.isolate} (${p.sampledMs} ms of JS):\n  ${p.top.join('\n  ')}`);
		}
		const seconds = (performance.now() - at) / 1000;
		const used = process.cpuUsage(bench);
		loop.disable();
		const serverAfter = ctx.serverPid && server ? await treeTicks(ctx.serverPid) : null;
		const machineAfter = await machineTicks();
		const benchCpu = Math.round(((used.user + used.system) / 1e6 / seconds) * 100);
		const serverCpu = server && serverAfter ? cpuPercent(server, serverAfter, seconds) : undefined;
		let otherCpu: number | undefined;
		if (machine && machineAfter) {
			const share = (machineAfter.busy - machine.busy) / (machineAfter.total - machine.total);
			const busy = share * cpus().length * 100;
			otherCpu = Math.max(0, Math.round(busy - benchCpu - (serverCpu?.total ?? 0)));
		}
		return {
			benchCpu,
			serverCpu,
			/** Server CPU time over the window, for a cost per delivery. */
			serverCpuMs: serverCpu ? Math.round(serverCpu.total * seconds * 10) : undefined,
			otherCpu,
			cores: cpus().length,
			loadAvg: round(loadavg()[0] ?? 0),
			// Event-loop delay beyond the 10 ms sampling interval of the monitor.
			benchLoopDelayP99: round(Math.max(0, loop.percentile(99) / 1e6 - 10)) ?? undefined,
			profile
		};
	};
}

/**
 * Other work on the machine competes for the same cores and turns latency figures into noise: wait
 * (bounded) until it stays under `limit` percent of one core for a couple of seconds.
 */
export async function waitForQuiet(ctx: Context, limit: number, maxMs: number): Promise<number> {
	const started = performance.now();
	let other = Infinity;
	for (let i = 0; performance.now() - started < maxMs; i++) {
		const meter = await startMeter({ ...ctx, inspector: null });
		await sleep(2000, undefined, { signal: ctx.signal });
		other = (await meter()).otherCpu ?? 0;
		if (other <= limit) break;
		if (i === 0) log(`waiting for a quieter machine: other processes use ${other}% of a core`);
	}
	if (other > limit) log(`machine still busy (${other}% of a core elsewhere): measuring anyway`);
	return other;
}

/** Server CPU per delivered message copy, in microseconds: the room's cost of one receipt. */
export function costPerDelivery(
	usage: { serverCpuMs?: number },
	delivered: number
): number | undefined {
	if (usage.serverCpuMs === undefined || delivered === 0) return undefined;
	return round((usage.serverCpuMs * 1000) / delivered) ?? undefined;
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
