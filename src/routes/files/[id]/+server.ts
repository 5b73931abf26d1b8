import { getDb, platformEnv } from '$lib/server/db';
import { serveFile } from '$lib/server/files/serve';
import type { RequestHandler } from './$types';

/**
 * A file's bytes, for whoever may read its room now (asked on every request, revalidations
 * included); everyone else, signed in or not, gets 404. `?download=1` asks for an attachment.
 * Ranges are served for media players. Not under `/api/`: `<img>`, `<video>` and links use it.
 */
export const GET: RequestHandler = async (event) => {
	const env = platformEnv(event.platform);
	return serveFile(
		{ db: getDb(env.DB), bucket: env.FILES },
		event.request,
		event.params.id,
		event.locals.user?.id ?? null,
		{ download: event.url.searchParams.get('download') === '1' }
	);
};

/** The same answer without the bytes, and without reading them from R2. */
export const HEAD: RequestHandler = GET;
