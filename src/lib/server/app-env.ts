/**
 * `npm run dev` serves a production build under `wrangler dev`, so `$app/environment`'s `dev` is
 * false there: the deployment is told apart by the APP_ENV variable instead ("production" when
 * deployed, "development" from wrangler.toml otherwise).
 */
export function isProduction(env: Env): boolean {
	const appEnv: string = env.APP_ENV;
	return appEnv === 'production';
}
