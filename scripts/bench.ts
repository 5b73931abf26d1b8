// `npm run bench`: starts the app on a free loopback port (or uses --url), fills a room with real
// authenticated WebSocket clients through the real door, and prints one JSON line per scenario on
// stdout. Progress goes to stderr. Bounded in time: it always ends by itself.
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { populateThroughForms, seedSql, type Population, type RoomSpec } from './bench/accounts.ts';
import type { Context } from './bench/context.ts';
import { prepareHistory, snapshotState, type HistoryData } from './bench/history-gen.ts';
import { log } from './bench/log.ts';
import { waitForQuiet } from './bench/meter.ts';
import { parseOptions, USAGE } from './bench/options.ts';
import { serverRootFor, workersPids } from './bench/proc.ts';
import { findInspector } from './bench/profile.ts';
import { sanityCheck } from './bench/sanity.ts';
import { SCENARIOS } from './bench/scenarios/index.ts';
import {
	applySql,
	DevServer,
	freePort,
	makeStateDir,
	removeDir,
	run,
	runtimeEntry,
	wrangler
} from './bench/server.ts';
import { BUILD_MANIFEST, describeSize, kb, measureRoomPage, withinBudget } from './lib/size.ts';

/** The room page's initial JavaScript, from the build being measured, as a line of its own. */
function reportSize(built: boolean): void {
	if (!existsSync(BUILD_MANIFEST)) {
		log('no build to measure the room page size from (run npm run build)');
		return;
	}
	if (!built) log('room page size measured from the existing build');
	const size = measureRoomPage();
	log(describeSize(size));
	const line = {
		scenario: 'size',
		route: size.route,
		initialJsGzipKb: Number(kb(size.gzip)),
		files: size.files.length,
		budgetKb: size.budgetKb,
		withinBudget: withinBudget(size)
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The generated history, as a line of its own: its size, how long it took, the index's share. */
function reportHistory(history: HistoryData): void {
	const scopes = history.probes.map((p) => p.scopeMessages).sort((a, b) => a - b);
	const line = {
		scenario: 'history-data',
		...history.counts,
		cached: history.cached,
		prepareMs: history.prepareMs,
		generation: history.timings,
		fileBytes: history.sizes.fileBytes,
		indexBytes: history.sizes.indexBytes,
		indexTables: history.sizes.indexTables,
		messagesBytes: history.sizes.messagesBytes,
		messagesTableBytes: history.sizes.messagesTableBytes,
		searchers: history.probes.length,
		roomsPerSearcher: history.plan.probeRooms,
		scopeMessages: { min: scopes[0], median: scopes[scopes.length >> 1], max: scopes.at(-1) }
	};
	process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(signal: AbortSignal, cleanups: (() => Promise<void>)[]): Promise<void> {
	const options = parseOptions();
	if (options.help) {
		process.stdout.write(`${USAGE}\n`);
		return;
	}
	const roomSpecs: RoomSpec[] = options.plan.flatMap((p) => {
		const scenario = SCENARIOS[p.name]!;
		const own = scenario.rooms?.(p.settings);
		if (own) return own.map((room) => ({ ...room, name: `${p.name}/${room.name}` }));
		return [{ name: p.name, members: scenario.accounts(p.settings) }];
	});
	// One more than any scenario needs: see the sanity check below.
	const accountsNeeded =
		Math.max(...options.plan.map((p) => SCENARIOS[p.name]!.accounts(p.settings))) + 1;
	/** Accounts and rooms written straight into a server's local D1 (its --persist-to folder). */
	const seed = async (stateDir: string): Promise<Population> => {
		const { sql, population } = seedSql(accountsNeeded, roomSpecs);
		await applySql(stateDir, sql, signal);
		return population;
	};

	let base: string;
	let serverPid: number | null;
	/** What the server said last, for a scenario that fails (null with --url). */
	let serverLog: (() => string) | null = null;
	/** Where the clients connect: the given --url, wrangler's dev proxy, or the runtime behind it. */
	let entry: 'url' | 'proxy' | 'runtime' = options.url ? 'url' : 'proxy';
	let population: Population;
	let stateDir: string | null = options.state ?? null;
	let history: HistoryData | null = null;
	const needsHistory = options.plan.some((p) => SCENARIOS[p.name]!.history);
	if (options.url) {
		if (needsHistory) log('--url: no generated history (the server is already running)');
		base = options.url.replace(/\/$/, '');
		serverPid = await serverRootFor(Number(new URL(base).port || 80));
		if (serverPid === null) log('the server process is not visible: no CPU figures for it');
		population = options.state
			? await seed(options.state)
			: await populateThroughForms(base, accountsNeeded, roomSpecs, signal);
	} else {
		if (options.build) {
			// npm runs the build script with the same Node as this one.
			const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
			process.env.PATH = path;
			await run('npm', ['run', 'build'], 'build', signal);
		}
		signal.throwIfAborted();
		const dir = await makeStateDir();
		stateDir = dir;
		if (!options.keepState) cleanups.push(() => removeDir(dir));
		else log(`state kept in ${dir}`);
		await wrangler(
			['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir],
			'D1 migrations',
			signal
		);
		if (needsHistory) {
			// Before the accounts: the history replaces the D1 file the migrations made.
			history = await prepareHistory(dir);
			reportHistory(history);
		}
		population = await seed(dir);
		if (history && options.plan.some((p) => SCENARIOS[p.name]!.snapshot)) {
			const snapshot = await snapshotState(dir);
			history.snapshot = snapshot;
			cleanups.push(() => removeDir(snapshot));
		}
		signal.throwIfAborted();
		const port = await freePort();
		log(`starting wrangler dev on 127.0.0.1:${port}`);
		const server = await DevServer.start(dir, port);
		cleanups.push(async () => {
			log('stopping the server');
			await server.stop();
		});
		process.once('exit', () => server.killNow());
		base = server.url;
		serverPid = server.pid ?? null;
		serverLog = () => server.logTail(20);
		log(`server ready at ${base}`);
		if (!options.viaProxy && serverPid !== null) {
			const direct = await runtimeEntry(serverPid);
			if (direct) {
				base = direct;
				entry = 'runtime';
				log(`measuring at the workers' runtime, ${base}, not through wrangler's dev proxy`);
			} else {
				log("the workers' runtime port was not found: measuring through wrangler's dev proxy");
			}
		}
	}
	signal.throwIfAborted();
	reportSize(!options.url && options.build);

	// The last account is kept out of the scenarios for the sanity check's membership test.
	const outsider = population.accounts.at(-1)!;
	await sanityCheck(base, outsider);

	let inspector: string | null = null;
	if (options.profile && serverPid !== null) {
		inspector = await findInspector(await workersPids(serverPid));
		log(inspector ? `profiling through workerd's inspector at ${inspector}` : 'no inspector found');
	}

	const ctx: Context = {
		base,
		accounts: population.accounts.slice(0, -1),
		rooms: population.rooms,
		serverPid,
		stateDir,
		inspector,
		signal,
		history
	};
	for (const { name, settings } of options.plan) {
		signal.throwIfAborted();
		if (options.quietWaitMs > 0) await waitForQuiet(ctx, 50, options.quietWaitMs);
		log(`scenario ${name}: ${JSON.stringify(settings)}`);
		try {
			const result = await SCENARIOS[name]!.run(ctx, settings);
			process.stdout.write(`${JSON.stringify({ ...result, entry })}\n`);
		} catch (error) {
			if (signal.aborted) throw error;
			// One scenario failing (say, no socket could open) says nothing about the next one.
			const message = error instanceof Error ? error.message : String(error);
			log(`scenario ${name} failed: ${message}`);
			if (serverLog) log(`the server's last words:\n${serverLog()}`);
			process.stdout.write(`${JSON.stringify({ scenario: name, error: message })}\n`);
			process.exitCode = 1;
		}
	}
}

const controller = new AbortController();
const cleanups: (() => Promise<void>)[] = [];
let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => {
		interrupted++;
		if (interrupted > 1) process.exit(130);
		log(`${signal}: stopping (again to force)`);
		controller.abort(new Error(`interrupted by ${signal}`));
	});
}

let maxMs = 15 * 60_000;
try {
	maxMs = parseOptions().maxMs;
} catch {
	// main() reports bad options.
}
const limit = setTimeout(() => {
	log(`time limit of ${maxMs / 60_000} min reached: stopping`);
	controller.abort(new Error('time limit reached'));
}, maxMs);

try {
	await main(controller.signal, cleanups);
} catch (error) {
	log(error instanceof Error ? (error.stack ?? error.message) : String(error));
	process.exitCode = 1;
} finally {
	clearTimeout(limit);
	for (const cleanup of cleanups.reverse()) {
		await cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
	}
	// Sockets or timers of an aborted scenario must not keep the process alive.
	setTimeout(() => process.exit(), 2000).unref();
}
