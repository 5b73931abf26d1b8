/**
 * `npm run dev` serves a production build under `wrangler dev`, so `$app/environment`'s `dev` is
 * false there: the deployment is told apart by the APP_ENV variable instead. wrangler.toml ships
 * "production"; every local server (`npm run dev`, the e2e suite, the bench, the screenshots)
 * passes `--var APP_ENV:development` itself. Anything but that exact word is production, so a
 * deployment that lost or misspelt the variable still sends real mail (or refuses to, loudly)
 * instead of writing sign-in links into a table, and never serves the development outbox.
 */
export function isProduction(env: Env): boolean {
	const appEnv: unknown = env.APP_ENV;
	return appEnv !== 'development';
}

/** A `[vars]` number arrives as a number; one given with `--var NAME:value` as a string. */
export function positiveInteger(value: unknown): number | null {
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}
