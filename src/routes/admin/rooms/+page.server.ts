import { requireSiteAdmin, searchRooms } from '$lib/server/moderation/site-admin';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { db } = requireSiteAdmin(event);
	const q = (event.url.searchParams.get('q') ?? '').slice(0, 100);
	return { q, rooms: await searchRooms(db, q) };
};
