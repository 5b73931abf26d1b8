// `npm test`: every suite, each runner's own output, then one closing line with the totals.
// Runs every suite even when an earlier one fails, so one run shows everything that is broken.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

// Outside test-results/, which Playwright empties when it starts.
const out = '.test-summary';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// `flaky`: passed only when retried (CI retries an e2e test once); counted as passed, named apart.
type Counts = { passed: number; failed: number; skipped: number; flaky?: number };

function run(command: string, args: string[], env: Record<string, string> = {}): number {
	const result = spawnSync(command, args, {
		stdio: 'inherit',
		env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...env }
	});
	return result.status ?? 1;
}

function readJson(path: string): unknown {
	try {
		return JSON.parse(readFileSync(path, 'utf8'));
	} catch {
		return null;
	}
}

function vitestCounts(report: unknown): Counts | null {
	if (!report || typeof report !== 'object') return null;
	const r = report as {
		numPassedTests?: number;
		numFailedTests?: number;
		numPendingTests?: number;
	};
	if (typeof r.numPassedTests !== 'number') return null;
	return {
		passed: r.numPassedTests,
		failed: r.numFailedTests ?? 0,
		skipped: r.numPendingTests ?? 0
	};
}

function playwrightCounts(report: unknown): Counts | null {
	if (!report || typeof report !== 'object') return null;
	const stats = (report as { stats?: Record<string, number> }).stats;
	if (!stats) return null;
	return {
		passed: (stats.expected ?? 0) + (stats.flaky ?? 0),
		failed: stats.unexpected ?? 0,
		skipped: stats.skipped ?? 0,
		flaky: stats.flaky ?? 0
	};
}

const unitStatus = run('npx', [
	'vitest',
	'run',
	'--reporter=default',
	'--reporter=json',
	`--outputFile.json=${out}/vitest.json`
]);
const e2eStatus = run('npx', ['playwright', 'test', '--reporter=list,json'], {
	PLAYWRIGHT_JSON_OUTPUT_NAME: `${out}/playwright.json`
});

const suites: [string, number, Counts | null][] = [
	['unit (workerd)', unitStatus, vitestCounts(readJson(`${out}/vitest.json`))],
	['e2e (chromium)', e2eStatus, playwrightCounts(readJson(`${out}/playwright.json`))]
];
const total: Counts = { passed: 0, failed: 0, skipped: 0 };
let ok = true;
console.log('');
for (const [name, status, counts] of suites) {
	if (!counts) {
		// A runner that crashed before reporting counts as a failure of the whole suite.
		console.log(`${name}: no results (exit ${status})`);
		total.failed += 1;
		ok = false;
		continue;
	}
	const flaky = counts.flaky ? ` (${counts.flaky} flaky: passed on retry)` : '';
	console.log(
		`${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${flaky}`
	);
	total.passed += counts.passed;
	total.failed += counts.failed;
	total.skipped += counts.skipped;
	if (status !== 0 || counts.failed > 0) ok = false;
}
if (total.passed === 0) ok = false;
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(ok ? 0 : 1);
