import { adminCounts, requireSiteAdmin } from '$lib/server/moderation/site-admin';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { db } = requireSiteAdmin(event);
	return { counts: await adminCounts(db) };
};
