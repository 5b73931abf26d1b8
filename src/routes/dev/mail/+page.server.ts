import { error } from '@sveltejs/kit';
import { desc } from 'drizzle-orm';
import { isProduction } from '$lib/server/app-env';
import { getDb, platformEnv } from '$lib/server/db';
import { mailOutbox } from '$shared/db/schema';
import type { PageServerLoad } from './$types';

const SHOWN = 50;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The development mailer's outbox. It holds live sign-in links, so it must not exist in
 * production; and in case a deployment ever forgets to set APP_ENV, it only answers on the
 * developer's own machine too.
 */
export const load: PageServerLoad = async ({ platform, setHeaders, url }) => {
	const env = platformEnv(platform);
	if (isProduction(env) || !LOOPBACK.has(url.hostname)) error(404, 'Not found');
	setHeaders({ 'cache-control': 'no-store' });
	const mail = await getDb(env.DB)
		.select()
		.from(mailOutbox)
		.orderBy(desc(mailOutbox.id))
		.limit(SHOWN);
	return { mail };
};
