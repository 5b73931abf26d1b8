import { drizzle } from 'drizzle-orm/d1';
import * as schema from '$shared/db/schema';

export type Db = ReturnType<typeof getDb>;

/** Built per request from the binding: a module-level client would outlive the request's isolate. */
export function getDb(d1: D1Database) {
	return drizzle(d1, { schema });
}

/** The bindings of this request; missing only if the app runs outside the Workers runtime. */
export function platformEnv(platform: App.Platform | undefined): Env {
	if (!platform)
		throw new Error('Parley runs on the Workers runtime: start it with `npm run dev`.');
	return platform.env;
}
