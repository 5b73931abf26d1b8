// Builds the app and serves it with `wrangler dev` (both workers, fresh local state) on a loopback
// port, as the Playwright config does, for scripts that need a running Parley.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { ensureDevVars } from '../dev-vars.ts';
import { copyEmojiAssets } from '../emoji-assets.ts';

export type RunningApp = { base: string; stop: () => Promise<void> };

function run(command: string, args: string[]): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: 'inherit', env: childEnv() });
		child.on('exit', (code) =>
			code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited ${code}`))
		);
	});
}

function childEnv(): NodeJS.ProcessEnv {
	// No download of a sample `Request.cf` either: offline it only prints a stack trace.
	return { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };
}

async function waitFor(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) throw new Error(`wrangler dev exited ${child.exitCode}`);
		try {
			const response = await fetch(url);
			if (response.ok) return;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

/** `build: false` reuses the existing build in .svelte-kit/cloudflare. */
export async function startApp(
	port: number,
	options: { build?: boolean } = {}
): Promise<RunningApp> {
	const state = `.wrangler/scripts-${port}`;
	rmSync(state, { recursive: true, force: true });
	if (options.build !== false || !existsSync('.svelte-kit/cloudflare/_worker.js')) {
		// What `npm run build`'s prebuild does, which calling vite directly skips.
		copyEmojiAssets();
		await run('npx', ['vite', 'build', '--logLevel', 'warn']);
	}
	// The Web Push keys both workers read from their `.dev.vars`.
	await ensureDevVars();
	await run('npx', [
		'wrangler',
		'd1',
		'migrations',
		'apply',
		'DB',
		'--local',
		'--persist-to',
		state
	]);
	const child = spawn(
		'npx',
		[
			'wrangler',
			'dev',
			'-c',
			'wrangler.toml',
			'-c',
			'workers/realtime/wrangler.toml',
			'--port',
			String(port),
			'--persist-to',
			state,
			// wrangler.toml ships production; a local server is development (mail in the outbox).
			'--var',
			'APP_ENV:development'
		],
		{ stdio: ['ignore', 'ignore', 'inherit'], env: childEnv(), detached: true }
	);
	const base = `http://localhost:${port}`;
	const stop = async () => {
		if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
		await new Promise((resolve) => setTimeout(resolve, 300));
	};
	try {
		await waitFor(`${base}/`, child, 120_000);
	} catch (error) {
		await stop();
		throw error;
	}
	return { base, stop };
}
