// Runs the real app for the bench: build, a fresh local D1 with migrations and seeded accounts,
// then `wrangler dev` with both workers on a free loopback port. Everything it starts it stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureDevVars } from '../dev-vars.ts';
import { log } from './log.ts';
import { findPort, workersPids } from './proc.ts';

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

/**
 * A private copy of the app's build (and its config, beside which wrangler reads `.dev.vars`) for
 * one server. wrangler dev watches what it serves: a build in the working tree meanwhile (another
 * run's, the e2e suite's) would reload the app under the measurement and move the runtime's port.
 * Inside the tree (git-ignored), so that the build's imports still find node_modules.
 */
async function snapshotApp(stateDir: string): Promise<string> {
	const dir = join(ROOT, '.bench-cache', `app-${basename(stateDir)}`);
	for (const part of ['cloudflare', 'cloudflare-tmp', 'output']) {
		await cp(join(ROOT, '.svelte-kit', part), join(dir, '.svelte-kit', part), { recursive: true });
	}
	await copyFile(join(ROOT, 'wrangler.toml'), join(dir, 'wrangler.toml'));
	await copyFile(join(ROOT, '.dev.vars'), join(dir, '.dev.vars'));
	return dir;
}

export class DevServer {
	readonly url: string;
	readonly #child: ChildProcess;
	/** The server's copy of the build (snapshotApp), removed when it stops. */
	#app = '';
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
		// The Web Push keys both workers read from their `.dev.vars`.
		await ensureDevVars();
		const app = await snapshotApp(stateDir);
		const inspectorPort = await freePort();
		const child = spawn(
			process.execPath,
			[
				WRANGLER,
				'dev',
				'-c',
				join(app, 'wrangler.toml'),
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
		server.#app = app;
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
		if (this.#app) await rm(this.#app, { recursive: true, force: true });
	}

	/** Synchronous last resort for `process.on('exit')`. */
	killNow(): void {
		killGroup(this.#child, 'SIGKILL');
	}
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
	const port = await findPort(await workersPids(rootPid), async (port) => {
		// The runtime's other sockets (the inspector, its loopback service) fail this probe.
		const response = await fetch(`http://127.0.0.1:${port}/login`, {
			signal: AbortSignal.timeout(5000)
		});
		const html = (response.headers.get('content-type') ?? '').startsWith('text/html');
		await response.arrayBuffer();
		return response.status === 200 && html;
	});
	return port === null ? null : `http://127.0.0.1:${port}`;
}
