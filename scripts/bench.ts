// `npm run bench`: starts the app on a free loopback port (or uses --url), fills a room with real
// authenticated WebSocket clients through the real door, and prints one JSON line per scenario on
// stdout. Progress goes to stderr. Bounded in time: it always ends by itself.
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { populateThroughForms, seedSql, type Population } from './bench/accounts.ts';
import { log } from './bench/log.ts';
import { sanityCheck } from './bench/sanity.ts';
import type { Context, Settings } from './bench/context.ts';
import { waitForQuiet } from './bench/measure.ts';
import { SCENARIOS } from './bench/scenarios.ts';
import {
	applySql,
	DevServer,
	freePort,
	makeStateDir,
	removeDir,
	run,
	serverRootFor,
	runtimeEntry,
	treeProcs,
	wrangler
} from './bench/server.ts';
import { findInspector } from './bench/profile.ts';
import { BUILD_MANIFEST, describeSize, kb, measureRoomPage, withinBudget } from './lib/size.ts';
import { existsSync } from 'node:fs';

const USAGE = `Usage: npm run bench -- [options]

  --scenario <list>   comma-separated, from: ${Object.keys(SCENARIOS).join(', ')} (default: all)
  --clients <n>       clients in the room (join-storm: clients that join during the storm)
  --senders <n>       how many of them send
  --rate <n>          messages per second, room-wide (saturation: the first step's rate)
  --duration <s>      seconds of sending (saturation: per step)
  --url <url>         use an app that is already running instead of starting one
  --state <dir>       with --url: that server's --persist-to folder, to seed accounts into its D1
                      (without it, accounts are registered through the form: slow)
  --via-proxy         measure through wrangler's dev proxy, as a browser on \`npm run dev\` does
                      (default: straight to the runtime that runs the workers, as deployed)
  --no-build          skip \`npm run build\` (use the last build)
  --profile           sample the app's and the room's JavaScript during each scenario (workerd's
                      inspector) and print where the server's time goes to stderr
  --keep-state        keep the temporary state folder
  --quiet-wait <s>    before each scenario, wait up to this long for other processes to leave the
                      cores alone (under half a core busy elsewhere); 0 to skip (default 60)
  --max-minutes <n>   hard limit for the whole run (default 15)

Each scenario's flags default to its own settings: baseline 200 clients, 20 senders, 20 msg/s,
10 s; steady 1,000 clients, 10 senders, 10 msg/s, 20 s; saturation 1,000 clients, 20 senders,
doubling from 10 msg/s in 4 s steps; join-storm 1,000 joins in 5 s at 10 msg/s; reconnect-storm
1,000 clients drop after 3 s at 10 msg/s.`;

function positive(name: string, value: string | undefined): number | undefined {
	if (value === undefined) return undefined;
	const n = Number(value);
	if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
	return n;
}

function parseOptions() {
	const { values } = parseArgs({
		options: {
			scenario: { type: 'string' },
			clients: { type: 'string' },
			senders: { type: 'string' },
			rate: { type: 'string' },
			duration: { type: 'string' },
			url: { type: 'string' },
			state: { type: 'string' },
			'no-build': { type: 'boolean', default: false },
			'via-proxy': { type: 'boolean', default: false },
			'keep-state': { type: 'boolean', default: false },
			profile: { type: 'boolean', default: false },
			'max-minutes': { type: 'string' },
			'quiet-wait': { type: 'string' },
			help: { type: 'boolean', short: 'h', default: false }
		},
		strict: true
	});
	const names = values.scenario
		? values.scenario.split(',').map((s) => s.trim())
		: Object.keys(SCENARIOS);
	for (const name of names) {
		if (!SCENARIOS[name]) throw new Error(`unknown scenario "${name}"\n\n${USAGE}`);
	}
	const overrides: Partial<Settings> = {
		clients: positive('clients', values.clients),
		senders: positive('senders', values.senders),
		rate: positive('rate', values.rate),
		duration: positive('duration', values.duration)
	};
	for (const key of ['clients', 'senders'] as const) {
		if (overrides[key] !== undefined) overrides[key] = Math.floor(overrides[key]);
	}
	const plan = names.map((name) => {
		const settings = { ...SCENARIOS[name]!.defaults };
		for (const [key, value] of Object.entries(overrides)) {
			if (value !== undefined) settings[key as keyof Settings] = value;
		}
		settings.senders = Math.min(settings.senders, settings.clients);
		return { name, settings };
	});
	if (values.url && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(values.url)) {
		throw new Error('--url must be a loopback address (127.0.0.1 or localhost)');
	}
	return {
		plan,
		url: values.url,
		state: values.state,
		build: !values['no-build'],
		keepState: values['keep-state'],
		viaProxy: values['via-proxy'],
		profile: values.profile,
		maxMs: (positive('max-minutes', values['max-minutes']) ?? 15) * 60_000,
		quietWaitMs: Number(values['quiet-wait'] ?? 60) * 1000,
		help: values.help
	};
}

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

async function main(signal: AbortSignal, cleanups: (() => Promise<void>)[]): Promise<void> {
	const options = parseOptions();
	if (options.help) {
		process.stdout.write(`${USAGE}\n`);
		return;
	}
	const accountsNeeded =
		Math.max(...options.plan.map((p) => SCENARIOS[p.name]!.accounts(p.settings))) + 1;
	const roomSpecs = options.plan.map((p) => ({
		name: p.name,
		members: SCENARIOS[p.name]!.accounts(p.settings)
	}));

	let base: string;
	let serverPid: number | null;
	/** Where the clients connect: the given --url, wrangler's dev proxy, or the runtime behind it. */
	let entry: 'url' | 'proxy' | 'runtime' = options.url ? 'url' : 'proxy';
	let population: Population;
	if (options.url) {
		base = options.url.replace(/\/$/, '');
		serverPid = await serverRootFor(Number(new URL(base).port || 80));
		if (serverPid === null) log('the server process is not visible: no CPU figures for it');
		if (options.state) {
			const { sql, population: seeded } = seedSql(accountsNeeded, roomSpecs);
			await applySql(options.state, sql, signal);
			population = seeded;
		} else {
			population = await populateThroughForms(base, accountsNeeded, roomSpecs, signal);
		}
	} else {
		if (options.build) {
			// npm runs the build script with the same Node as this one.
			const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
			process.env.PATH = path;
			await run('npm', ['run', 'build'], 'build', signal);
		}
		signal.throwIfAborted();
		const stateDir = await makeStateDir();
		if (!options.keepState) cleanups.push(() => removeDir(stateDir));
		else log(`state kept in ${stateDir}`);
		await wrangler(
			['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir],
			'D1 migrations',
			signal
		);
		const { sql, population: seeded } = seedSql(accountsNeeded, roomSpecs);
		await applySql(stateDir, sql, signal);
		population = seeded;
		signal.throwIfAborted();
		const port = await freePort();
		log(`starting wrangler dev on 127.0.0.1:${port}`);
		const server = await DevServer.start(stateDir, port);
		cleanups.push(async () => {
			log('stopping the server');
			await server.stop();
		});
		process.once('exit', () => server.killNow());
		base = server.url;
		serverPid = server.pid ?? null;
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
		const pids = (await treeProcs(serverPid)).filter((p) => p.label === 'workers');
		inspector = await findInspector(pids.map((p) => p.pid));
		log(inspector ? `profiling through workerd's inspector at ${inspector}` : 'no inspector found');
	}

	const ctx: Context = {
		base,
		accounts: population.accounts.slice(0, -1),
		rooms: population.rooms,
		serverPid,
		inspector,
		signal
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
