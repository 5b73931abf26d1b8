import { searchPeople } from '$lib/server/people/people';
import { requireSignedIn } from '$lib/server/request-context';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const q = (event.url.searchParams.get('q') ?? '').slice(0, 64);
	return { q, results: q.trim() ? await searchPeople(db, user.id, q) : null };
};
