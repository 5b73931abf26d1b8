import { error } from '@sveltejs/kit';
import { desc } from 'drizzle-orm';
import { isProduction } from '$lib/server/app-env';
import { getDb, platformEnv } from '$lib/server/db';
import { mailOutbox } from '$lib/server/db/schema';
import type { PageServerLoad } from './$types';

const SHOWN = 50;

/** The development mailer's outbox. It holds live links, so it must not exist in production. */
export const load: PageServerLoad = async ({ platform, setHeaders }) => {
	const env = platformEnv(platform);
	if (isProduction(env)) error(404, 'Not found');
	setHeaders({ 'cache-control': 'no-store' });
	const mail = await getDb(env.DB)
		.select()
		.from(mailOutbox)
		.orderBy(desc(mailOutbox.id))
		.limit(SHOWN);
	return { mail };
};
