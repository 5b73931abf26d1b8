// lighthouse: Lighthouse's view of a room page on its mobile profile (an emulated mid-range phone
// on a slow network and CPU), signed in: the largest contentful paint, the performance score and
// the total blocking time. Lighthouse is not one of the project's packages: npx fetches the pinned
// version from the registry and runs it with the system's Chromium. Without the registry (or a
// Chromium) the scenario says it was skipped, and why, instead of failing the run.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import type { Account } from '../../lib/parley-client.ts';
import { systemChromium } from '../browser.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { fillRoom } from '../room-fill.ts';
import { round } from '../stats.ts';

const LIGHTHOUSE = 'lighthouse@12.2.3';
const MESSAGES = 200;
/** Fetching Lighthouse the first time takes a while; a run on two busy cores too. */
const FETCH_MS = 180_000;
const RUN_MS = 180_000;
/** The target for the room page's LCP on the mobile profile. */
const TARGET_LCP_MS = 1500;

type Outcome = { code: number | null; stdout: string; stderr: string };

/** Runs npx with this Node's own npm; bounded in time, stopped with the bench. */
function npx(args: string[], env: Record<string, string>, ms: number, signal: AbortSignal) {
	return new Promise<Outcome>((resolve, reject) => {
		const child = spawn('npx', ['--yes', ...args], {
			env: {
				...process.env,
				...env,
				PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`
			},
			stdio: ['ignore', 'pipe', 'pipe'],
			signal: AbortSignal.any([signal, AbortSignal.timeout(ms)])
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

function lastLine(text: string): string {
	return text.trim().split('\n').at(-1) ?? '';
}

type Report = {
	categories: { performance: { score: number | null } };
	audits: Record<
		string,
		{ numericValue?: number; details?: { items?: Record<string, number>[] } } | undefined
	>;
	runtimeError?: { code: string; message: string };
};

export const lighthouse: Scenario = {
	defaults: { clients: 11, senders: 10, rate: 0, duration: 0 },
	// The member whose page is measured, and those who wrote the room's history.
	accounts: (s) => Math.max(2, s.clients),
	async run(ctx: Context, s: Settings): Promise<Result> {
		const roomId = ctx.rooms.lighthouse;
		if (!roomId) throw new Error('no room seeded for lighthouse');
		const skipped = (why: string) => {
			log(`lighthouse: skipped: ${why}`);
			return { scenario: 'lighthouse', skipped: why };
		};
		const chrome = systemChromium();
		if (!chrome) return skipped('no system Chromium for Lighthouse to drive');
		const fetched = await npx([LIGHTHOUSE, '--version'], {}, FETCH_MS, ctx.signal).catch(
			(error: unknown) => ({ code: null, stdout: '', stderr: String(error) })
		);
		if (fetched.code !== 0) {
			return skipped(`npx could not fetch ${LIGHTHOUSE}: ${lastLine(fetched.stderr)}`);
		}

		const [reader, ...writers] = ctx.accounts.slice(0, Math.max(2, s.clients)) as [
			Account,
			...Account[]
		];
		log(`lighthouse: ${MESSAGES} messages from ${writers.length} members`);
		await fillRoom(ctx, writers, roomId, MESSAGES);
		const url = `${ctx.base}/rooms/${roomId}`;
		log(`lighthouse ${lastLine(fetched.stdout)}: ${url} on the mobile profile`);
		const ran = await npx(
			[
				LIGHTHOUSE,
				url,
				'--output=json',
				'--quiet',
				'--only-categories=performance',
				'--chrome-flags=--headless=new --no-sandbox',
				`--extra-headers=${JSON.stringify({ cookie: reader.cookie })}`
			],
			{ CHROME_PATH: chrome },
			RUN_MS,
			ctx.signal
		);
		if (ran.code !== 0) {
			throw new Error(`lighthouse exited with ${ran.code}: ${lastLine(ran.stderr)}`);
		}
		const report = JSON.parse(ran.stdout) as Report;
		if (report.runtimeError) {
			throw new Error(`lighthouse: ${report.runtimeError.code}: ${report.runtimeError.message}`);
		}
		const audit = (id: string) => report.audits[id]?.numericValue ?? null;
		const observed = report.audits.metrics?.details?.items?.[0];
		const score = report.categories.performance.score;
		return {
			scenario: 'lighthouse',
			lighthouse: lastLine(fetched.stdout),
			performanceScore: score === null ? null : Math.round(score * 100),
			lcpMs: round(audit('largest-contentful-paint'), 0),
			tbtMs: round(audit('total-blocking-time'), 0),
			fcpMs: round(audit('first-contentful-paint'), 0),
			// What this machine's Chromium took, before Lighthouse's simulated throttling.
			observedLcpMs: round(observed?.observedLargestContentfulPaint ?? null, 0),
			targetLcpMs: TARGET_LCP_MS
		};
	}
};
