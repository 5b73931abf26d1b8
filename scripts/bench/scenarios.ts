// The scenarios. Each one gets a fresh room (seeded with every bench account as a member), runs
// bounded in count and time, and returns one result line.
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../lib/parley-client.ts';
import { BenchClient, Hub } from './client.ts';
import { log } from './log.ts';
import { Recorder } from './recorder.ts';
import { startProfiling } from './profile.ts';
import { cpuPercent, machineTicks, treeTicks } from './server.ts';
import { Histogram, round } from './stats.ts';

export type Settings = {
	clients: number;
	senders: number;
	/** Messages per second, room-wide. */
	rate: number;
	/** Seconds of sending (per step, for saturation). */
	duration: number;
};

export type Context = {
	base: string;
	accounts: Account[];
	rooms: Record<string, string>;
	serverPid: number | null;
	/** workerd's inspector, when --profile asked for a CPU profile of each scenario. */
	inspector: string | null;
	signal: AbortSignal;
};

export type Result = Record<string, unknown>;

type Scenario = {
	defaults: Settings;
	/** Accounts the scenario needs for the given settings. */
	accounts: (s: Settings) => number;
	run: (ctx: Context, s: Settings) => Promise<Result>;
};

const DRAIN_MS = 10_000;
const CONNECT_CONCURRENCY = 16;

// ---- shared pieces ----

function body(n: number): string {
	return `Bench message ${n}: the quick brown fox jumps over the lazy dog.`;
}

/**
 * The room's sustained send limit per user (SEND_RATE in the protocol module, which the bench cannot
 * import: Node's type stripping needs explicit file extensions, the app's modules leave them out).
 */
const SEND_LIMIT_PER_SECOND = 5;

/**
 * Spreads `count` senders evenly over the clients; more if the rate would push one sender past the
 * room's per-user send limit (the bench measures the room, not its rate limiter).
 */
function pickSenders(clients: BenchClient[], count: number, rate: number): BenchClient[] {
	const needed = Math.ceil(rate / (SEND_LIMIT_PER_SECOND * 0.8));
	if (needed > count)
		log(`${needed} senders instead of ${count}: ${rate} msg/s within the send limit`);
	const n = Math.max(1, Math.min(Math.max(count, needed), clients.length));
	const step = clients.length / n;
	return Array.from({ length: n }, (_, i) => clients[Math.floor(i * step)]!);
}

class Session {
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

/**
 * Sends `rate` messages a second, round-robin over the senders, for `durationMs`. The promise is
 * marked handled at once: scenarios await it later, after other steps that may throw first.
 */
function pace(
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
async function warmUp(
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
async function drain(
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
async function startMeter(ctx: Context) {
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
function costPerDelivery(usage: { serverCpuMs?: number }, delivered: number): number | undefined {
	if (usage.serverCpuMs === undefined || delivered === 0) return undefined;
	return round((usage.serverCpuMs * 1000) / delivered) ?? undefined;
}

/** The figures every scenario reports, in the order of the result line. */
function figures(recorder: Recorder, clients: BenchClient[], hub: Hub) {
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

function settingsOf(s: Settings) {
	return { senders: s.senders, rate: s.rate, durationS: s.duration };
}

// ---- baseline and steady: everyone connected, a constant rate ----

async function constantRate(name: string, ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, name, ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed, ms } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const senders = pickSenders(connected, s.senders, s.rate);
		const warmupMaxMs = await warmUp(session, senders[0]!, connected, ctx.signal);
		const recorder = new Recorder(Math.ceil(s.rate * s.duration) + 1, s.clients, s.duration + 30);
		session.hub.recorder = recorder;
		session.hub.resetCounters();
		for (const client of connected) client.baseSeq = client.lastSeq;
		const meter = await startMeter(ctx);
		log(`${name}: ${s.rate} msg/s from ${senders.length} senders for ${s.duration} s`);
		await pace(recorder, senders, s.rate, s.duration * 1000, ctx.signal);
		const drained = await drain(recorder, connected, ctx.signal);
		const usage = await meter();
		return {
			scenario: name,
			...figures(recorder, connected, session.hub),
			...settingsOf(s),
			drained,
			warmupMaxMs: round(warmupMaxMs),
			connectFailures: failed,
			connectAllMs: Math.round(ms),
			...usage,
			serverUsPerDelivery: costPerDelivery(usage, recorder.delivered)
		};
	} finally {
		await session.close();
	}
}

// ---- saturation: raise the rate until deliveries per second stop growing ----

const SATURATION_MAX_STEPS = 8;
const SATURATION_BUDGET_MS = 150_000;
/** A step must beat the best so far by this factor to count as growth. */
const GROWTH = 1.05;

async function saturation(ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, 'saturation', ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const started = performance.now();
		const steps: Result[] = [];
		let best: { step: Result; recorder: Recorder } | null = null;
		let totals = { sent: 0, delivered: 0, lost: 0 };
		let overloadUndelivered = 0;
		let rate = s.rate;
		for (let i = 0; i < SATURATION_MAX_STEPS; i++) {
			if (performance.now() - started > SATURATION_BUDGET_MS) break;
			const senders = pickSenders(connected, s.senders, rate);
			const recorder = new Recorder(Math.ceil(rate * s.duration) + 1, s.clients, s.duration + 30);
			session.hub.recorder = recorder;
			for (const client of connected) client.baseSeq = client.lastSeq;
			const meter = await startMeter(ctx);
			await pace(recorder, senders, rate, s.duration * 1000, ctx.signal);
			const drained = await drain(recorder, connected, ctx.signal);
			const usage = await meter();
			const f = figures(recorder, connected, session.hub);
			const step: Result = {
				rate,
				senders: senders.length,
				sent: f.sent,
				deliveriesPerSec: f.deliveriesPerSec,
				p50: f.p50,
				p99: f.p99,
				ackP99: f.ackP99,
				lost: f.lost,
				drained,
				benchCpu: usage.benchCpu,
				serverCpu: usage.serverCpu?.total,
				otherCpu: usage.otherCpu,
				serverUsPerDelivery: costPerDelivery(usage, f.delivered)
			};
			steps.push(step);
			// A step that did not drain was past saturation: what it had not delivered after the drain
			// period is reported as `overloadUndelivered`, not as lost.
			totals = {
				sent: totals.sent + f.sent,
				delivered: totals.delivered + f.delivered,
				lost: totals.lost + (drained ? f.lost : 0)
			};
			if (!drained) overloadUndelivered = f.lost;
			log(`saturation: ${JSON.stringify(step)}`);
			const grew = !best || f.deliveriesPerSec > (best.step.deliveriesPerSec as number) * GROWTH;
			if (!best || f.deliveriesPerSec > (best.step.deliveriesPerSec as number)) {
				best = { step: { ...step, usage }, recorder };
			}
			if (!grew || !drained) break;
			rate *= 2;
		}
		if (!best) throw new Error('saturation: no step ran');
		const peak = best.recorder;
		return {
			scenario: 'saturation',
			clients: connected.length,
			sent: totals.sent,
			delivered: totals.delivered,
			lost: totals.lost,
			p50: round(peak.latency.quantile(0.5)),
			p95: round(peak.latency.quantile(0.95)),
			p99: round(peak.latency.quantile(0.99)),
			deliveriesPerSec: best.step.deliveriesPerSec,
			peakDeliveriesPerSec: best.step.deliveriesPerSec,
			peakRate: best.step.rate,
			overloadUndelivered,
			senders: best.step.senders,
			stepS: s.duration,
			connectFailures: failed,
			duplicates: session.hub.duplicates,
			steps,
			...(best.step.usage as object)
		};
	} finally {
		await session.close();
	}
}

// ---- join-storm: everyone joins within a few seconds while messages flow ----

const JOIN_WINDOW_MS = 5000;
const JOIN_START_MS = 1000;

async function joinStorm(ctx: Context, s: Settings): Promise<Result> {
	// The senders are already in the room; `clients` more people join during the storm.
	const all = ctx.accounts.slice(0, s.clients + s.senders);
	const session = new Session(ctx, 'join-storm', all);
	const senderClients = session.clients.slice(s.clients);
	const joiners = session.clients.slice(0, s.clients);
	try {
		const { connected: senders } = await session.connect(senderClients, ctx.signal);
		session.startHeartbeat();
		const warmupMaxMs = await warmUp(session, senders[0]!, senders, ctx.signal);
		const sendMs = Math.max(s.duration * 1000, JOIN_START_MS + JOIN_WINDOW_MS + 2000);
		const recorder = new Recorder(Math.ceil((s.rate * sendMs) / 1000) + 1, all.length, 60);
		session.hub.recorder = recorder;
		session.hub.resetCounters();
		const meter = await startMeter(ctx);
		log(`join-storm: ${joiners.length} joins within ${JOIN_WINDOW_MS / 1000} s, ${s.rate} msg/s`);
		const sending = pace(recorder, senders, s.rate, sendMs, ctx.signal);

		const joinTimes = new Histogram();
		const stormStart = performance.now() + JOIN_START_MS;
		const deadline = stormStart + 60_000;
		let lastWelcome = 0;
		const joined: BenchClient[] = [];
		const joining = joiners.map(async (client, i) => {
			const at = stormStart + (i * JOIN_WINDOW_MS) / joiners.length;
			await sleep(Math.max(0, at - performance.now()), undefined, { signal: ctx.signal });
			// As a browser that has just loaded the page: history up to now, then the socket.
			client.resetTo(session.hub.roomSeq);
			if (!(await client.connectWithRetry(deadline))) return;
			joinTimes.add(client.welcomedAt - at);
			lastWelcome = Math.max(lastWelcome, client.welcomedAt);
			joined.push(client);
		});
		await Promise.all([sending, ...joining]);
		const participants = [...senders, ...joined];
		const drained = await drain(recorder, participants, ctx.signal);
		const usage = await meter();
		return {
			scenario: 'join-storm',
			...figures(recorder, participants, session.hub),
			...settingsOf({ ...s, duration: sendMs / 1000 }),
			joined: joined.length,
			joinFailures: joiners.length - joined.length,
			joinP50: round(joinTimes.quantile(0.5)),
			joinP99: round(joinTimes.quantile(0.99)),
			joinMax: round(joinTimes.max),
			joinSpanMs: Math.round(lastWelcome - stormStart),
			backlogDelivered: recorder.backlogDelivered,
			duplicatesBeforeWelcome: session.hub.duplicatesBeforeWelcome,
			drained,
			warmupMaxMs: round(warmupMaxMs),
			...usage,
			serverUsPerDelivery: costPerDelivery(usage, recorder.delivered)
		};
	} finally {
		await session.close();
	}
}

// ---- reconnect-storm: every socket drops at once and comes back with jittered backoff ----

const DROP_AFTER_MS = 3000;
const CATCH_UP_LIMIT_MS = 60_000;

async function reconnectStorm(ctx: Context, s: Settings): Promise<Result> {
	const session = new Session(ctx, 'reconnect-storm', ctx.accounts.slice(0, s.clients));
	try {
		const { connected, failed } = await session.connect(session.clients, ctx.signal);
		session.startHeartbeat();
		const senders = pickSenders(connected, s.senders, s.rate);
		const sendMs = Math.max(s.duration * 1000, DROP_AFTER_MS + 5000);
		const recorder = new Recorder(Math.ceil((s.rate * sendMs) / 1000) + 1, s.clients, 90);
		session.hub.recorder = recorder;
		session.hub.resetCounters();
		for (const client of connected) client.baseSeq = client.lastSeq;
		const meter = await startMeter(ctx);
		log(`reconnect-storm: ${connected.length} sockets drop after ${DROP_AFTER_MS / 1000} s`);
		const sending = pace(recorder, senders, s.rate, sendMs, ctx.signal);

		await sleep(DROP_AFTER_MS, undefined, { signal: ctx.signal });
		const dropAt = performance.now();
		for (const client of connected) {
			client.keepConnected(dropAt + CATCH_UP_LIMIT_MS);
			client.caughtUpAt = 0;
			client.drop();
		}
		// Caught up: back, welcomed, and holding every message up to the room's seq at its welcome.
		while (performance.now() - dropAt < CATCH_UP_LIMIT_MS) {
			if (connected.every((c) => c.welcomed && c.caughtUpAt > dropAt)) break;
			await sleep(20, undefined, { signal: ctx.signal });
		}
		const back = connected.filter((c) => c.welcomed && c.caughtUpAt > dropAt);
		const catchUpMs = Math.max(0, ...back.map((c) => c.caughtUpAt - dropAt));
		const reconnectTimes = new Histogram();
		for (const c of back) reconnectTimes.add(c.welcomedAt - dropAt);
		log(
			`reconnect-storm: ${back.length}/${connected.length} back and caught up in ${Math.round(catchUpMs)} ms`
		);
		await sending;
		const drained = await drain(recorder, connected, ctx.signal);
		const usage = await meter();
		// Gaps: seqs a client that is back in the room lacks below the room's last seq. Clients still
		// away are counted as `notBack` instead: their hello will ask for what they miss.
		const roomSeq = session.hub.roomSeq;
		let gaps = 0;
		let notBack = 0;
		for (const c of connected) {
			if (!c.welcomed) {
				notBack++;
				continue;
			}
			gaps += Math.max(0, roomSeq - c.lastSeq - c.aheadCount);
		}
		return {
			scenario: 'reconnect-storm',
			...figures(recorder, connected, session.hub),
			...settingsOf({ ...s, duration: sendMs / 1000 }),
			catchUpMs: back.length === connected.length ? Math.round(catchUpMs) : null,
			caughtUp: back.length,
			reconnectP50: round(reconnectTimes.quantile(0.5)),
			reconnectP99: round(reconnectTimes.quantile(0.99)),
			gaps,
			notBack,
			duplicatesBeforeWelcome: session.hub.duplicatesBeforeWelcome,
			truncatedBacklogs: session.hub.truncatedBacklogs,
			backlogDelivered: recorder.backlogDelivered,
			reconnectFailures: session.hub.upgradeFailures.size
				? Object.fromEntries(session.hub.upgradeFailures)
				: undefined,
			drained,
			connectFailures: failed,
			...usage,
			serverUsPerDelivery: costPerDelivery(usage, recorder.delivered)
		};
	} finally {
		await session.close();
	}
}

// ---- cost: server CPU per upgrade, per message and per delivered copy ----

/**
 * CPU time is far less sensitive than latency to other work on the machine, so this scenario
 * prices the room's work: idle, one upgrade through the door (with hello and welcome), one message
 * in a room of one, and each further copy of a message broadcast to a room of `clients`.
 */
const COST_MESSAGES = 40;
/** One sender, kept under the room's per-user send limit. */
const COST_RATE = 4;

async function serverMs(ctx: Context): Promise<{ proxy: number; workers: number } | null> {
	if (!ctx.serverPid) return null;
	const ticks = await treeTicks(ctx.serverPid);
	// One tick is 10 ms. The dev tools' own processes (wrangler, esbuild) are left out.
	return { proxy: (ticks.get('proxy') ?? 0) * 10, workers: (ticks.get('workers') ?? 0) * 10 };
}

async function costScenario(ctx: Context, s: Settings): Promise<Result> {
	if (!ctx.serverPid)
		throw new Error('cost needs to see the server processes (start it, or --url)');
	const session = new Session(ctx, 'cost', ctx.accounts.slice(0, s.clients));
	const [first, ...others] = session.clients;
	const window = async (work: () => Promise<void>) => {
		const before = (await serverMs(ctx))!;
		const started = performance.now();
		await work();
		const after = (await serverMs(ctx))!;
		const seconds = (performance.now() - started) / 1000;
		return {
			seconds,
			proxy: after.proxy - before.proxy,
			workers: after.workers - before.workers
		};
	};
	try {
		const idle = await window(() => sleep(4000, undefined, { signal: ctx.signal }));
		const idlePerSec = {
			proxy: idle.proxy / idle.seconds,
			workers: idle.workers / idle.seconds
		};
		const aboveIdle = (w: { seconds: number; proxy: number; workers: number }) => ({
			proxy: Math.max(0, w.proxy - idlePerSec.proxy * w.seconds),
			workers: Math.max(0, w.workers - idlePerSec.workers * w.seconds)
		});

		// A room of one: what a message costs before anyone else receives it.
		await session.connect([first!], ctx.signal);
		const alone = new Recorder(COST_MESSAGES, s.clients, 120);
		session.hub.recorder = alone;
		const lonely = aboveIdle(
			await window(async () => {
				await pace(alone, [first!], COST_RATE, (COST_MESSAGES / COST_RATE) * 1000, ctx.signal);
				await drain(alone, [first!], ctx.signal);
			})
		);

		// Upgrades through the door, one at a time.
		const upgradeTimes = new Histogram();
		const deadline = performance.now() + 180_000;
		let failed = 0;
		const upgrades = aboveIdle(
			await window(async () => {
				for (const client of others) {
					ctx.signal.throwIfAborted();
					if (await client.connectWithRetry(deadline)) {
						upgradeTimes.add(client.welcomedAt - client.connectStartedAt);
					} else failed++;
				}
			})
		);
		const upgraded = others.length - failed;

		// The same messages to everyone.
		const connected = session.clients.filter((c) => c.welcomed);
		const recorder = new Recorder(COST_MESSAGES, s.clients, 120);
		session.hub.recorder = recorder;
		session.hub.resetCounters();
		for (const client of connected) client.baseSeq = client.lastSeq;
		const everyone = aboveIdle(
			await window(async () => {
				await pace(recorder, [first!], COST_RATE, (COST_MESSAGES / COST_RATE) * 1000, ctx.signal);
				await drain(recorder, connected, ctx.signal);
			})
		);
		const extraCopies = recorder.delivered - recorder.sent;
		const perMessage = (w: { proxy: number; workers: number }) => ({
			proxy: round(w.proxy / COST_MESSAGES, 2),
			workers: round(w.workers / COST_MESSAGES, 2)
		});
		return {
			scenario: 'cost',
			...figures(recorder, connected, session.hub),
			rate: COST_RATE,
			serverIdleCpu: {
				proxy: Math.round(idlePerSec.proxy / 10),
				workers: Math.round(idlePerSec.workers / 10)
			},
			upgradeMs: {
				p50: round(upgradeTimes.quantile(0.5)),
				p99: round(upgradeTimes.quantile(0.99))
			},
			upgradeCpuMs: upgraded
				? {
						proxy: round(upgrades.proxy / upgraded, 2),
						workers: round(upgrades.workers / upgraded, 2)
					}
				: null,
			messageCpuMs: perMessage(lonely),
			deliveryCpuUs:
				extraCopies > 0
					? {
							proxy: round((Math.max(0, everyone.proxy - lonely.proxy) * 1000) / extraCopies),
							workers: round((Math.max(0, everyone.workers - lonely.workers) * 1000) / extraCopies)
						}
					: null,
			upgradeFailures: failed
		};
	} finally {
		await session.close();
	}
}

export const SCENARIOS: Record<string, Scenario> = {
	cost: {
		defaults: { clients: 100, senders: 1, rate: COST_RATE, duration: COST_MESSAGES / COST_RATE },
		accounts: (s) => s.clients,
		run: costScenario
	},
	baseline: {
		defaults: { clients: 200, senders: 20, rate: 20, duration: 10 },
		accounts: (s) => s.clients,
		run: (ctx, s) => constantRate('baseline', ctx, s)
	},
	steady: {
		defaults: { clients: 1000, senders: 10, rate: 10, duration: 20 },
		accounts: (s) => s.clients,
		run: (ctx, s) => constantRate('steady', ctx, s)
	},
	saturation: {
		defaults: { clients: 1000, senders: 20, rate: 10, duration: 4 },
		accounts: (s) => s.clients,
		run: saturation
	},
	'join-storm': {
		defaults: { clients: 1000, senders: 10, rate: 10, duration: 10 },
		accounts: (s) => s.clients + s.senders,
		run: joinStorm
	},
	'reconnect-storm': {
		defaults: { clients: 1000, senders: 10, rate: 10, duration: 12 },
		accounts: (s) => s.clients,
		run: reconnectStorm
	}
};
