import { redirect } from '@sveltejs/kit';
import { requireSignedIn } from '$lib/server/request-context';
import { searchRequest } from '$lib/server/search';
import { applyToggle, readSearchOptions, searchPageHref } from '$lib/ui/search';
import type { PageServerLoad } from './$types';

/**
 * The full results of a search: the address carries it (`q`, `room`, `public`, `sort`, `cursor`,
 * as /api/search reads them), so the page works as a plain GET form. A chip is a submit button
 * naming the filter it adds or takes out (`toggle`): the search goes on at the address without it.
 */
export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const params = event.url.searchParams;
	const options = readSearchOptions(params);
	const toggle = params.get('toggle');
	if (toggle !== null) {
		redirect(303, searchPageHref(applyToggle({ ...options, cursor: null }, toggle) ?? options));
	}
	if (!options.q.trim()) return { options, results: null, problem: null };
	const found = await searchRequest(db, user.id, params);
	if (found.ok) return { options, results: found.results, problem: null };
	const problem =
		found.retryAfter !== undefined
			? `Searching too fast, try again in ${found.retryAfter} s.`
			: found.message;
	return { options, results: null, problem };
};
