import { json } from '@sveltejs/kit';
import { jsonRefusal, requireSignedIn } from '$lib/server/request-context';
import { searchRequest } from '$lib/server/search';
import type { RequestHandler } from './$types';

/**
 * Messages, people and public rooms for `?q=`, as the search box asks while one types: see
 * `searchRequest` for the parameters. Only rooms the person may read now are searched.
 */
export const GET: RequestHandler = async (event) => {
	const { user, db } = requireSignedIn(event);
	const found = await searchRequest(db, user.id, event.url.searchParams);
	if (found.ok) return json(found.results);
	const refusal = jsonRefusal(found.status, found.code, found.message);
	if (found.retryAfter !== undefined) refusal.headers.set('retry-after', String(found.retryAfter));
	return refusal;
};
