// idle: what sockets that say nothing cost. Many rooms, each with a few members connected and
// pinging like the app (the runtime answers the exact heartbeat text without waking the room), one
// message in each room so every room object is in memory, then nothing for the duration. Reported:
// the runtime's resident memory before the sockets, with them, and at the end (per idle socket),
// and the room worker's JavaScript heap after a garbage collection every ten seconds through
// workerd's inspector: room objects that hibernate leave it, and the heap falls back towards where
// it was before the rooms were opened.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from '../client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { cpuPercent, treeTicks, workersPids } from '../proc.ts';
import { findInspector, Inspector, ISOLATES } from '../profile.ts';
import { pickSenders, Session } from '../session.ts';
import { round } from '../stats.ts';

const DEFAULT_ROOMS = 500;
/** Rooms connected at once: each room's own connects are already concurrent. */
const ROOMS_AT_ONCE = 8;
const SAMPLE_EVERY_S = 10;

function roomCount(s: Settings): number {
	return s.rooms ?? DEFAULT_ROOMS;
}

/** The resident memory of the runtime processes that run the workers, in MB. */
async function runtimeRssMB(ctx: Context): Promise<number | null> {
	if (ctx.serverPid === null) return null;
	let kb = 0;
	for (const pid of await workersPids(ctx.serverPid)) {
		const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
		kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
	}
	return kb ? round(kb / 1024, 1) : null;
}

/** The room worker's isolate, through workerd's inspector, for its heap; null when not found. */
async function roomIsolate(ctx: Context): Promise<Inspector | null> {
	if (ctx.serverPid === null) return null;
	const address = ctx.inspector ?? (await findInspector(await workersPids(ctx.serverPid)));
	if (!address) return null;
	try {
		const isolate = await Inspector.open(`ws://${address}/${ISOLATES[0]}`);
		// Without it, workerd's inspector leaves a collection unanswered.
		await isolate.call('HeapProfiler.enable', {}, 10_000);
		return isolate;
	} catch (error) {
		log(`idle: cannot attach to the room worker's isolate: ${String(error)}`);
		return null;
	}
}

/** The isolate's used heap after a full collection, in MB. */
async function heapMB(isolate: Inspector | null): Promise<number | null> {
	if (!isolate) return null;
	try {
		await isolate.call('HeapProfiler.collectGarbage', {}, 10_000);
		const usage = (await isolate.call('Runtime.getHeapUsage', {}, 10_000)) as {
			usedSize: number;
		};
		return round(usage.usedSize / 2 ** 20, 1);
	} catch (error) {
		log(`idle: no heap figure: ${String(error)}`);
		return null;
	}
}

async function run(ctx: Context, s: Settings): Promise<Result> {
	const rooms = roomCount(s);
	const sessions = Array.from(
		{ length: rooms },
		(_, i) => new Session(ctx, `idle/${i}`, ctx.accounts.slice(i * s.clients, (i + 1) * s.clients))
	);
	const isolate = await roomIsolate(ctx);
	try {
		const rssBefore = await runtimeRssMB(ctx);
		const heapBefore = await heapMB(isolate);
		log(`idle: ${rooms} rooms of ${s.clients} sockets: connecting`);
		const joined: BenchClient[][] = new Array(rooms);
		let connectFailures = 0;
		for (let i = 0; i < rooms; i += ROOMS_AT_ONCE) {
			await Promise.all(
				sessions.slice(i, i + ROOMS_AT_ONCE).map(async (session, j) => {
					const { connected, failed } = await session.connect(session.clients, ctx.signal);
					session.startHeartbeat();
					connectFailures += failed;
					joined[i + j] = connected;
				})
			);
		}
		const sockets = joined.reduce((n, c) => n + c.length, 0);
		// One message in every room: every room object is in memory when the quiet starts.
		await Promise.all(
			sessions.map((session, i) =>
				session.warmUp(pickSenders(joined[i]!, 1, 1)[0]!, joined[i]!, ctx.signal)
			)
		);
		const rssConnected = await runtimeRssMB(ctx);
		const heapSeries: [number, number | null][] = [[0, await heapMB(isolate)]];
		log(`idle: ${sockets} sockets open, quiet for ${s.duration} s`);
		const ticks = ctx.serverPid ? await treeTicks(ctx.serverPid) : null;
		const started = performance.now();
		for (let at = SAMPLE_EVERY_S; at <= s.duration; at += SAMPLE_EVERY_S) {
			await sleep(Math.max(0, started + at * 1000 - performance.now()), undefined, {
				signal: ctx.signal
			});
			heapSeries.push([at, await heapMB(isolate)]);
		}
		const seconds = (performance.now() - started) / 1000;
		const ticksAfter = ctx.serverPid ? await treeTicks(ctx.serverPid) : null;
		const rssIdle = await runtimeRssMB(ctx);
		const open = joined.flat().filter((c) => c.open).length;
		const perSocketKB = (mb: number | null) =>
			mb !== null && rssBefore !== null && sockets > 0
				? round(((mb - rssBefore) * 1024) / sockets, 1)
				: null;
		const heapAtStart = heapSeries[0]![1];
		const heapAtEnd = heapSeries.at(-1)![1];
		return {
			scenario: 'idle',
			rooms,
			socketsPerRoom: s.clients,
			sockets,
			connectFailures,
			stillOpen: open,
			quietS: s.duration,
			rssBeforeMB: rssBefore,
			rssConnectedMB: rssConnected,
			rssIdleMB: rssIdle,
			rssPerSocketKB: perSocketKB(rssConnected),
			rssPerSocketIdleKB: perSocketKB(rssIdle),
			roomHeapBeforeMB: heapBefore,
			roomHeapSeriesMB: heapSeries,
			// Room objects that left memory: what the heap gave back of what the rooms had added.
			roomHeapReleased:
				heapBefore !== null && heapAtStart !== null && heapAtEnd !== null
					? round((heapAtStart - heapAtEnd) / Math.max(0.1, heapAtStart - heapBefore), 2)
					: null,
			idleServerCpu: ticks && ticksAfter ? cpuPercent(ticks, ticksAfter, seconds) : undefined,
			roomErrors: sessions.flatMap((session) => [...session.hub.errors])
		};
	} finally {
		isolate?.close();
		await Promise.all(sessions.map((session) => session.close()));
	}
}

export const idle: Scenario = {
	defaults: { clients: 10, senders: 1, rate: 0, duration: 120, rooms: DEFAULT_ROOMS },
	accounts: (s) => roomCount(s) * s.clients,
	rooms: (s) =>
		Array.from({ length: roomCount(s) }, (_, i) => ({
			name: String(i),
			members: s.clients,
			first: i * s.clients
		})),
	run
};
