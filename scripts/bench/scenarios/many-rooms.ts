// many-rooms: the common case, many small rooms at once, each with its own people and its own rate.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from '../client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { costPerDelivery, startMeter } from '../meter.ts';
import { TICK_MS, treeTicks } from '../proc.ts';
import { Recorder } from '../recorder.ts';
import { drain, figures, pace, pickSenders, Session } from '../session.ts';
import { round } from '../stats.ts';

const DEFAULT_ROOMS = 10;
const IDLE_WINDOW_MS = 3000;

/** CPU time of the runtime process that runs the workers (not wrangler's), in ms; 0 if unseen. */
async function runtimeMs(ctx: Context): Promise<number> {
	if (!ctx.serverPid) return 0;
	return ((await treeTicks(ctx.serverPid)).get('workers') ?? 0) * TICK_MS;
}

function roomCount(s: Settings): number {
	return s.rooms ?? DEFAULT_ROOMS;
}

/** The median of some figures, and the worst (highest) of them. */
function spread(values: (number | null)[]): { median: number | null; worst: number | null } {
	const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
	if (known.length === 0) return { median: null, worst: null };
	return { median: known[(known.length - 1) >> 1]!, worst: known.at(-1)! };
}

async function run(ctx: Context, s: Settings): Promise<Result> {
	const rooms = roomCount(s);
	// Every room is its own session: its own people, counters and recorder, so its figures are its own.
	const sessions = Array.from(
		{ length: rooms },
		(_, i) =>
			new Session(ctx, `many-rooms/${i}`, ctx.accounts.slice(i * s.clients, (i + 1) * s.clients))
	);
	try {
		// Filled before anything is measured: every room open, every socket welcomed, every room warm.
		const joined: BenchClient[][] = [];
		let connectFailures = 0;
		for (const session of sessions) {
			const { connected, failed } = await session.connect(session.clients, ctx.signal);
			session.startHeartbeat();
			connectFailures += failed;
			joined.push(connected);
		}
		const senders = joined.map((connected) => pickSenders(connected, s.senders, s.rate));
		let warmupMaxMs = 0;
		await Promise.all(
			sessions.map(async (session, i) => {
				const ms = await session.warmUp(senders[i]![0]!, joined[i]!, ctx.signal);
				warmupMaxMs = Math.max(warmupMaxMs, ms);
			})
		);
		const recorders = sessions.map((session, i) => {
			const recorder = new Recorder(Math.ceil(s.rate * s.duration) + 1, s.clients, s.duration + 30);
			session.track(recorder, joined[i]!);
			session.hub.resetCounters();
			return recorder;
		});
		// The runtime's own CPU at rest with every socket open (heartbeats, timers), taken off the
		// run's, so that what is left per message is the messages' (as `cost` does).
		const idle = await runtimeMs(ctx);
		await sleep(IDLE_WINDOW_MS, undefined, { signal: ctx.signal });
		const idleMs = (await runtimeMs(ctx)) - idle;
		const runtimeBefore = await runtimeMs(ctx);
		const windowStart = performance.now();
		const meter = await startMeter(ctx);
		log(`many-rooms: ${rooms} rooms, ${s.rate} msg/s each from ${senders[0]!.length} senders`);
		// The rooms start a little apart, as unrelated rooms do, not all on the same millisecond.
		await Promise.all(
			recorders.map(async (recorder, i) => {
				await new Promise((r) => setTimeout(r, (i * 1000) / rooms / s.rate));
				await pace(recorder, senders[i]!, s.rate, s.duration * 1000, ctx.signal);
			})
		);
		const drained = await Promise.all(
			recorders.map((recorder, i) => drain(recorder, joined[i]!, ctx.signal))
		);
		const usage = await meter();
		const runtimeUsed = (await runtimeMs(ctx)) - runtimeBefore;
		const windowMs = performance.now() - windowStart;
		const runtimeBusyMs = Math.max(0, runtimeUsed - (idleMs * windowMs) / IDLE_WINDOW_MS);
		const perRoom = recorders.map((recorder, i) => figures(recorder, joined[i]!, sessions[i]!.hub));
		const p50 = spread(perRoom.map((r) => r.p50));
		const p99 = spread(perRoom.map((r) => r.p99));
		const sent = perRoom.reduce((sum, r) => sum + r.sent, 0);
		const delivered = perRoom.reduce((sum, r) => sum + r.delivered, 0);
		const worstRoom = perRoom.findIndex((r) => r.p99 === p99.worst);
		return {
			scenario: 'many-rooms',
			rooms,
			clientsPerRoom: s.clients,
			sendersPerRoom: senders[0]!.length,
			ratePerRoom: s.rate,
			durationS: s.duration,
			sent,
			delivered,
			acked: perRoom.reduce((sum, r) => sum + r.acked, 0),
			lost: perRoom.reduce((sum, r) => sum + r.lost, 0),
			closedSockets: joined.flat().filter((c) => !c.open).length,
			roomErrors: sessions.flatMap((session) => [...session.hub.errors]),
			duplicates: perRoom.reduce((sum, r) => sum + r.duplicates, 0),
			medianRoomP50: p50.median,
			medianRoomP99: p99.median,
			worstRoomP50: worstRoom >= 0 ? perRoom[worstRoom]!.p50 : null,
			worstRoomP99: p99.worst,
			worstMax: spread(perRoom.map((r) => r.max)).worst,
			ackP99: spread(perRoom.map((r) => r.ackP99)).worst,
			perRoom: perRoom.map((r) => [r.p50, r.p99]),
			sendErrors: perRoom.map((r) => r.sendErrors).filter(Boolean),
			drained: drained.every(Boolean),
			warmupMaxMs: round(warmupMaxMs),
			connectFailures,
			...usage,
			// wrangler dev reloads the workers when their sources change: a new runtime process
			// (its CPU counted from zero) means the figures straddle a restart.
			runtimeRestarted: (usage.serverCpu?.workers ?? 0) < 0,
			runtimeIdleCpu: Math.round((idleMs / IDLE_WINDOW_MS) * 100),
			runtimeMsPerMessage: ctx.serverPid && sent > 0 ? round(runtimeBusyMs / sent, 2) : undefined,
			runtimeUsPerDelivery:
				ctx.serverPid && delivered > 0 ? round((runtimeBusyMs * 1000) / delivered) : undefined,
			serverUsPerMessage:
				usage.serverCpuMs !== undefined && sent > 0
					? round((usage.serverCpuMs * 1000) / sent)
					: undefined,
			serverUsPerDelivery: costPerDelivery(usage, delivered)
		};
	} finally {
		await Promise.all(sessions.map((session) => session.close()));
	}
}

export const manyRooms: Scenario = {
	defaults: { clients: 100, senders: 10, rate: 1, duration: 20, rooms: DEFAULT_ROOMS },
	accounts: (s) => roomCount(s) * s.clients,
	rooms: (s) =>
		Array.from({ length: roomCount(s) }, (_, i) => ({
			name: String(i),
			members: s.clients,
			first: i * s.clients
		})),
	run
};
