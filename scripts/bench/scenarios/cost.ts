// cost: server CPU per upgrade, per message and per delivered copy.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import type { BenchClient } from '../client.ts';
import { TICK_MS, treeTicks } from '../proc.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, pace, Session } from '../session.ts';
import { Histogram, round } from '../stats.ts';

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
	// The dev tools' own processes (wrangler, esbuild) are left out.
	return {
		proxy: (ticks.get('proxy') ?? 0) * TICK_MS,
		workers: (ticks.get('workers') ?? 0) * TICK_MS
	};
}

async function run(ctx: Context, s: Settings): Promise<Result> {
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
	/** The scenario's messages from the first client, within its send limit, until all are in. */
	const sendAll = async (recorder: Recorder, receivers: BenchClient[]) => {
		await pace(recorder, [first!], COST_RATE, (COST_MESSAGES / COST_RATE) * 1000, ctx.signal);
		await drain(recorder, receivers, ctx.signal);
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
		session.track(alone, [first!]);
		const lonely = aboveIdle(await window(() => sendAll(alone, [first!])));

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
		session.track(recorder, connected);
		session.hub.resetCounters();
		const everyone = aboveIdle(await window(() => sendAll(recorder, connected)));
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

export const cost: Scenario = {
	defaults: { clients: 100, senders: 1, rate: COST_RATE, duration: COST_MESSAGES / COST_RATE },
	accounts: (s) => s.clients,
	run
};
