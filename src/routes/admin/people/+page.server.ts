import { requireSiteAdmin, searchAccounts } from '$lib/server/moderation/site-admin';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { db } = requireSiteAdmin(event);
	const q = (event.url.searchParams.get('q') ?? '').slice(0, 100);
	const suspended = event.url.searchParams.get('suspended') === '1';
	return { q, suspended, people: await searchAccounts(db, q, { suspended }) };
};
