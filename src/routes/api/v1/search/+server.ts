import { ApiError, endpoint } from '$lib/server/api/endpoint';
import { SearchAnswer } from '$lib/server/api/schemas';
import { SearchQuery, searchFor } from '$lib/server/search';

export const GET = endpoint({
	summary: 'Search',
	description:
		'Messages in every room you may read now (with `public=1`, also public rooms you have not joined), newest first or best match first, paged by `cursor`; on the first page, people and public rooms whose names match too. The query language is the search box’s: words, "phrases", prefix*, from:@user, in:#room, has:file|image|link, before:/after:/on:YYYY-MM-DD. Messages are found once the room has copied them to the database, within a second of being sent. Searching has its own rate besides the API’s.',
	tag: 'Search',
	scope: 'read',
	query: SearchQuery,
	response: SearchAnswer,
	errors: {
		400: 'A query that cannot be answered (a bad filter, an unknown person or room, one that would match nearly everything) or a cursor this search did not give.',
		404: 'The room asked for is not one you may read.'
	},
	handle: async ({ db, user, query }) => {
		const found = await searchFor(db, user.id, query);
		if (found.ok) return found.results;
		const headers =
			found.retryAfter !== undefined ? { 'Retry-After': String(found.retryAfter) } : undefined;
		throw new ApiError(found.status, found.code, found.message, undefined, headers);
	}
});
