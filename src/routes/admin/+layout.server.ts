import { requireSiteAdmin } from '$lib/server/moderation/site-admin';
import type { LayoutServerLoad } from './$types';

// Each page and action checks again: a layout's load does not guard its pages' form actions.
export const load: LayoutServerLoad = (event) => {
	requireSiteAdmin(event);
	return {};
};
