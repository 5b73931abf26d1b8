import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

// End-to-end tests run real Chromium against the real app under `wrangler dev` (both workers, local
// D1, R2 and Durable Objects), with a state folder of their own that starts empty on every run, as
// a development deployment (wrangler.toml ships production): mail lands in the local outbox.
const port = Number(process.env.PARLEY_E2E_PORT ?? 8788);
const state = `.wrangler/e2e-${port}`;
/** The e2e server's one site admin, by username (tests/e2e/admin.e2e.ts signs up as them). */
const E2E_SITE_ADMIN = 'e2e_site_admin';

// Playwright's own browser where the user has installed one; otherwise the system's Chromium.
const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) =>
	existsSync(p)
);
const launchOptions = systemChromium
	? {
			executablePath: systemChromium,
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-background-networking',
				'--disable-component-update'
			]
		}
	: {};

export default defineConfig({
	testDir: 'tests/e2e',
	testMatch: '**/*.e2e.ts',
	// Two tests at a time on CI: most of a test's time is waiting (the app, timers, a second
	// browser), so two share the machine's two cores. Each test makes its own people and rooms, so
	// tests of one file may run side by side: a file of long tests no longer runs alone at the end.
	fullyParallel: true,
	workers: process.env.CI ? 2 : 1,
	// One retry on CI: a test that needs it is reported as flaky by `npm test`, not hidden.
	retries: process.env.CI ? 1 : 0,
	timeout: 60_000,
	expect: { timeout: 10_000 },
	reporter: process.env.CI ? [['list']] : [['list']],
	use: {
		baseURL: `http://localhost:${port}`,
		trace: 'retain-on-failure',
		// The installed app's service worker stores the whole build in every new browser context,
		// and most tests open several: on two cores that was a seventh of the suite's time. The tests
		// of the installed app, offline use, notifications and push allow it (`test.use`).
		serviceWorkers: 'block',
		launchOptions
	},
	projects: [{ name: 'desktop', use: { ...devices['Desktop Chrome'], launchOptions } }],
	webServer: {
		command: `rm -rf ${state} && npm run build && node --experimental-strip-types --no-warnings scripts/dev-vars.ts && wrangler d1 migrations apply DB --local --persist-to ${state} && wrangler dev -c wrangler.toml -c workers/realtime/wrangler.toml --port ${port} --persist-to ${state} --var APP_ENV:development --var SITE_ADMINS:${E2E_SITE_ADMIN}`,
		url: `http://localhost:${port}/`,
		timeout: 180_000,
		reuseExistingServer: false,
		// Wrangler's local dashboards are for a developer's eyes, and their trace collector receives an
		// event for every request and socket message: work that only slows the tests down. The sample
		// `Request.cf` wrangler would fetch from workers.cloudflare.com is not needed either: its
		// placeholder does, and without a network (CI) the attempt only prints a stack trace.
		env: {
			WRANGLER_SEND_METRICS: 'false',
			CLOUDFLARE_CF_FETCH_ENABLED: 'false',
			X_LOCAL_OBSERVABILITY: 'false',
			X_LOCAL_EXPLORER: 'false'
		},
		stdout: 'ignore',
		stderr: 'pipe'
	}
});
