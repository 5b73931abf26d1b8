import { availableParallelism } from 'node:os';
import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { generateVapidKeys } from './scripts/dev-vars.ts';

// Every unit and integration test runs inside workerd. The realtime worker is the main worker, so
// the room object can be driven directly (runInDurableObject, evictDurableObject), and the app's
// server modules run against a real local D1 with the project's migrations applied.
export default defineConfig(async () => {
	const migrations = await readD1Migrations(path.join(import.meta.dirname, 'drizzle'));
	// A Web Push key pair per run, whatever a `.dev.vars` holds: the realtime worker signs with it,
	// and the push service (tests/setup/loopback-services.ts) accepts only its public key. APP_ENV is
	// said here too, so that a developer's `.dev.vars` ("development") does not change the tests.
	const vapid = await generateVapidKeys();
	process.env.PARLEY_TEST_VAPID_PUBLIC_KEY = vapid.publicKey;
	return {
		plugins: [
			cloudflareTest({
				wrangler: { configPath: './workers/realtime/wrangler.toml' },
				miniflare: {
					bindings: {
						TEST_MIGRATIONS: migrations,
						APP_ENV: 'production',
						VAPID_PUBLIC_KEY: vapid.publicKey,
						VAPID_PRIVATE_KEY: vapid.privateKey,
						VAPID_SUBJECT: 'mailto:push@parley.test'
					},
					r2Buckets: ['FILES']
				}
			})
		],
		resolve: {
			alias: {
				$lib: path.join(import.meta.dirname, 'src/lib'),
				$shared: path.join(import.meta.dirname, 'shared')
			}
		},
		test: {
			include: ['tests/**/*.test.ts'],
			// Every core: vitest's default leaves one idle, which on a two-core machine halves the
			// suite's pace. Each file has its own storage, so files running side by side share nothing.
			maxWorkers: availableParallelism(),
			setupFiles: ['./tests/setup/apply-migrations.ts'],
			globalSetup: ['./tests/setup/loopback-services.ts']
		}
	};
});
