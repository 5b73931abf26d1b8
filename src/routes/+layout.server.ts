import type { LayoutServerLoad } from './$types';

/** Only what the pages need of the user reaches the browser. */
export const load: LayoutServerLoad = ({ locals }) => ({
	user: locals.user
		? { id: locals.user.id, username: locals.user.username, displayName: locals.user.displayName }
		: null
});
