import { error } from '@sveltejs/kit';
import { requireSignedIn } from '$lib/server/request-context';
import { personalArchiveResponse } from '$lib/server/export/archive';
import { exportRefusal } from '$lib/server/export/rate';
import type { RequestHandler } from './$types';

/**
 * The signed-in person's data as a ZIP, made while it downloads (see `export/archive.ts`); the
 * link is on Settings → Your data. Under `/api/` so that the service worker leaves it alone: it
 * keeps a copy of every page it fetches for offline use, and an archive must never be one.
 */
export const GET: RequestHandler = async (event) => {
	const { user, env, db } = requireSignedIn(event);
	const refused = await exportRefusal(db, user.id);
	if (refused) return refused;
	const archive = await personalArchiveResponse({ db, bucket: env.FILES }, user.id);
	if (!archive) error(401, 'Sign in first.');
	return archive;
};
