// Where the CPU went while a scenario ran: the load client, the server's processes (from /proc),
// everything else on the machine, and --profile's samples; and waiting for a quiet machine first.
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from './context.ts';
import { log } from './log.ts';
import { cpuPercent, machineTicks, treeTicks } from './proc.ts';
import { startProfiling } from './profile.ts';
import { round } from './stats.ts';

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
