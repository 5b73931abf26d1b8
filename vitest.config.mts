import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Every unit and integration test runs inside workerd. The realtime worker is the main worker, so
// the room object can be driven directly (runInDurableObject, evictDurableObject), and the app's
// server modules run against a real local D1 with the project's migrations applied.
export default defineConfig(async () => {
	const migrations = await readD1Migrations(path.join(import.meta.dirname, 'drizzle'));
	return {
		plugins: [
			cloudflareTest({
				wrangler: { configPath: './workers/realtime/wrangler.toml' },
				miniflare: {
					bindings: { TEST_MIGRATIONS: migrations },
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
			setupFiles: ['./tests/setup/apply-migrations.ts']
		}
	};
});
