import { requireSignedIn } from '$lib/server/request-context';
import type { LayoutServerLoad } from './$types';

/** Every settings page is about the signed-in account. */
export const load: LayoutServerLoad = (event) => {
	requireSignedIn(event);
};
