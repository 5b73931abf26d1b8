// Runs the real app for the bench: build, a fresh local D1 with migrations and seeded accounts,
// then `wrangler dev` with both workers on a free loopback port. Everything it starts it stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log } from './log.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
/**
 * Local runs must not reach out: no metrics, no download of the `Request.cf` placeholder. Nor do they
 * carry wrangler's local dev dashboards (the trace collector and the data explorer): the collector
 * receives an event for every request and socket message, work that the deployed app does not do
 * on these cores.
 */
const QUIET_ENV = {
	WRANGLER_SEND_METRICS: 'false',
	CLOUDFLARE_CF_FETCH_ENABLED: 'false',
	X_LOCAL_OBSERVABILITY: 'false',
	X_LOCAL_EXPLORER: 'false'
};

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** Runs a command to completion; its output is kept and shown only if it fails. */
export async function run(
	command: string,
	args: string[],
	what: string,
	signal?: AbortSignal
): Promise<void> {
	signal?.throwIfAborted();
	const started = Date.now();
	const child = spawn(command, args, {
		cwd: ROOT,
		env: { ...process.env, ...QUIET_ENV, CI: 'true' },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true
	});
	const stop = () => killGroup(child);
	process.once('exit', stop);
	signal?.addEventListener('abort', stop, { once: true });
	let output = '';
	child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
	child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
	const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
	process.off('exit', stop);
	signal?.removeEventListener('abort', stop);
	signal?.throwIfAborted();
	if (code !== 0) {
		throw new Error(`${what} failed (exit ${code}):\n${output.trim()}`);
	}
	log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export function wrangler(args: string[], what: string, signal?: AbortSignal): Promise<void> {
	return run(process.execPath, [WRANGLER, ...args], what, signal);
}

export async function makeStateDir(): Promise<string> {
	return mkdtemp(join(tmpdir(), 'parley-bench-'));
}

export async function removeDir(dir: string): Promise<void> {
	await rm(dir, { recursive: true, force: true });
}

export async function applySql(stateDir: string, sql: string, signal?: AbortSignal): Promise<void> {
	const file = join(stateDir, 'seed.sql');
	await writeFile(file, sql);
	await wrangler(
		['d1', 'execute', 'DB', '--local', '--persist-to', stateDir, '--file', file, '--yes'],
		'seed accounts',
		signal
	);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
	try {
		// The child leads its own process group (detached): this reaches workerd too, and only it.
		process.kill(-child.pid, signal);
	} catch {
		// Already gone.
	}
}

export class DevServer {
	readonly url: string;
	readonly #child: ChildProcess;
	#output: string[] = [];
	#exited: Promise<void>;

	private constructor(url: string, child: ChildProcess) {
		this.url = url;
		this.#child = child;
		const keep = (chunk: Buffer) => {
			for (const line of chunk.toString().split('\n')) {
				if (line.trim()) this.#output.push(line);
			}
			if (this.#output.length > 400) this.#output.splice(0, this.#output.length - 200);
		};
		child.stdout?.on('data', keep);
		child.stderr?.on('data', keep);
		this.#exited = new Promise((resolve) => child.on('close', () => resolve()));
	}

	get pid(): number | undefined {
		return this.#child.pid;
	}

	static async start(stateDir: string, port: number): Promise<DevServer> {
		const inspectorPort = await freePort();
		const child = spawn(
			process.execPath,
			[
				WRANGLER,
				'dev',
				'-c',
				'wrangler.toml',
				'-c',
				'workers/realtime/wrangler.toml',
				'--ip',
				'127.0.0.1',
				'--port',
				String(port),
				'--inspector-port',
				String(inspectorPort),
				'--persist-to',
				stateDir,
				// wrangler.toml ships production; a local server is development.
				'--var',
				'APP_ENV:development',
				'--show-interactive-dev-session=false',
				// Per-request log lines cost the server CPU the bench is trying to measure.
				'--log-level',
				'warn'
			],
			{
				cwd: ROOT,
				env: { ...process.env, ...QUIET_ENV },
				stdio: ['ignore', 'pipe', 'pipe'],
				detached: true
			}
		);
		const server = new DevServer(`http://127.0.0.1:${port}`, child);
		try {
			await server.#waitUntilReady(120_000);
		} catch (error) {
			await server.stop();
			throw error;
		}
		return server;
	}

	async #waitUntilReady(timeoutMs: number): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		let exited = false;
		void this.#exited.then(() => (exited = true));
		while (Date.now() < deadline) {
			if (exited) throw new Error(`wrangler dev exited:\n${this.logTail()}`);
			try {
				const response = await fetch(this.url, { signal: AbortSignal.timeout(5000) });
				await response.arrayBuffer();
				if (response.status < 500) return;
			} catch {
				// Not listening yet.
			}
			await sleep(250);
		}
		throw new Error(`wrangler dev not ready after ${timeoutMs} ms:\n${this.logTail()}`);
	}

	logTail(lines = 40): string {
		return this.#output.slice(-lines).join('\n');
	}

	/** Stops the server and everything it started; waits for them (bounded). */
	async stop(): Promise<void> {
		killGroup(this.#child, 'SIGTERM');
		const stopped = await Promise.race([
			this.#exited.then(() => true),
			sleep(5000).then(() => false)
		]);
		if (!stopped) killGroup(this.#child, 'SIGKILL');
		// workerd may outlive wrangler for a moment; the group signal reached it too.
		killGroup(this.#child, 'SIGKILL');
	}

	/** Synchronous last resort for `process.on('exit')`. */
	killNow(): void {
		killGroup(this.#child, 'SIGKILL');
	}
}

// ---- CPU accounting of the server's processes (Linux /proc), to tell where the time goes ----

const TICKS_PER_SECOND = 100;

type ProcInfo = { pid: number; ppid: number; ticks: number; label: string };

async function readProc(pid: number): Promise<ProcInfo | null> {
	try {
		const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
		// The command name is in parentheses and may contain spaces: split after the last ')'.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		const ppid = Number(fields[1]);
		const ticks = Number(fields[11]) + Number(fields[12]);
		const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
		return { pid, ppid, ticks, label: labelOf(cmdline) };
	} catch {
		return null;
	}
}

function labelOf(argv: string[]): string {
	const exe = argv[0] ?? '';
	if (exe.endsWith('workerd')) {
		// wrangler dev runs two runtimes: a proxy that owns the public port, and the workers.
		return argv.some((a) => a.startsWith('--socket-addr=entry=') && !a.endsWith(':0'))
			? 'proxy'
			: 'workers';
	}
	if (exe.endsWith('esbuild')) return 'esbuild';
	return 'wrangler';
}

async function allProcs(): Promise<ProcInfo[]> {
	const procs: ProcInfo[] = [];
	for (const name of await readdir('/proc')) {
		const pid = Number(name);
		if (!Number.isInteger(pid)) continue;
		const info = await readProc(pid);
		if (info) procs.push(info);
	}
	return procs;
}

function subtree(procs: ProcInfo[], rootPid: number): ProcInfo[] {
	const inTree = new Set([rootPid]);
	let grew = true;
	while (grew) {
		grew = false;
		for (const p of procs) {
			if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
				inTree.add(p.pid);
				grew = true;
			}
		}
	}
	return procs.filter((p) => inTree.has(p.pid));
}

/** The processes of a server tree with a label ('proxy', 'workers', 'wrangler', 'esbuild'). */
export async function treeProcs(rootPid: number): Promise<{ pid: number; label: string }[]> {
	return subtree(await allProcs(), rootPid).map(({ pid, label }) => ({ pid, label }));
}

/** CPU ticks per label of a process and all its descendants. */
export async function treeTicks(rootPid: number): Promise<Map<string, number>> {
	const ticks = new Map<string, number>();
	for (const p of subtree(await allProcs(), rootPid)) {
		ticks.set(p.label, (ticks.get(p.label) ?? 0) + p.ticks);
	}
	return ticks;
}

/** Listening TCP sockets on loopback: socket inode -> port. */
async function listeningSockets(): Promise<Map<string, number>> {
	const sockets = new Map<string, number>();
	for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
		const text = await readFile(file, 'utf8').catch(() => '');
		for (const line of text.split('\n').slice(1)) {
			const f = line.trim().split(/\s+/);
			if (f[3] === '0A' && f[1] && f[9]) sockets.set(f[9], parseInt(f[1].split(':')[1]!, 16));
		}
	}
	return sockets;
}

/** The socket inodes a process holds open. */
async function socketInodes(pid: number): Promise<string[]> {
	const inodes: string[] = [];
	const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
	for (const fd of fds) {
		const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
		const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
		if (inode) inodes.push(inode);
	}
	return inodes;
}

/** The loopback ports a process listens on. */
export async function listeningPorts(pid: number): Promise<number[]> {
	const listening = await listeningSockets();
	const ports: number[] = [];
	for (const inode of await socketInodes(pid)) {
		const port = listening.get(inode);
		if (port !== undefined) ports.push(port);
	}
	return ports;
}

/**
 * For --url: the wrangler process behind a loopback port, found through /proc (the process that
 * listens on it is wrangler's proxy runtime; its parent is wrangler). Null if it is not visible.
 */
export async function serverRootFor(port: number): Promise<number | null> {
	const listening = await listeningSockets();
	const procs = await allProcs();
	for (const p of procs) {
		for (const inode of await socketInodes(p.pid)) {
			if (listening.get(inode) === port) {
				const parent = procs.find((q) => q.pid === p.ppid);
				return parent && parent.label === 'wrangler' ? parent.pid : p.pid;
			}
		}
	}
	return null;
}

/**
 * The address of the runtime that runs the workers, behind wrangler's dev proxy. The proxy is a
 * second runtime process that relays every request and socket frame (it hot-reloads the workers
 * for `wrangler dev`); the deployed app has no such hop, and on a 2-core machine it takes CPU from
 * the very processes being measured. The runtime's own port is chosen at random and not printed,
 * so it is found through /proc: the port of the workers' process that serves the app's login page.
 * Null if none does (then the bench goes through the proxy).
 */
export async function runtimeEntry(rootPid: number): Promise<string | null> {
	for (const { pid, label } of await treeProcs(rootPid)) {
		if (label !== 'workers') continue;
		for (const port of await listeningPorts(pid)) {
			const url = `http://127.0.0.1:${port}`;
			try {
				const response = await fetch(`${url}/login`, { signal: AbortSignal.timeout(5000) });
				const html = (response.headers.get('content-type') ?? '').startsWith('text/html');
				await response.arrayBuffer();
				if (response.status === 200 && html) return url;
			} catch {
				// Not an HTTP socket (the inspector, the runtime's loopback service).
			}
		}
	}
	return null;
}

/** Busy and total CPU ticks of the whole machine (all cores), from /proc/stat. */
export async function machineTicks(): Promise<{ busy: number; total: number } | null> {
	try {
		const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
		const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
		const total = values.reduce((a, b) => a + b, 0);
		// idle and iowait are the 4th and 5th columns.
		return { busy: total - values[3]! - values[4]!, total };
	} catch {
		return null;
	}
}

/** Percent of one core per label between two snapshots. */
export function cpuPercent(
	before: Map<string, number>,
	after: Map<string, number>,
	seconds: number
): Record<string, number> & { total: number } {
	const out: Record<string, number> & { total: number } = { total: 0 };
	let total = 0;
	for (const [label, ticks] of after) {
		const used = ticks - (before.get(label) ?? 0);
		total += used;
		out[label] = Math.round((used / TICKS_PER_SECOND / seconds) * 100);
	}
	out.total = Math.round((total / TICKS_PER_SECOND / seconds) * 100);
	return out;
}
