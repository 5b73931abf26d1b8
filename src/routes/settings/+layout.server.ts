import { redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

/** Every settings page is about the signed-in account. */
export const load: LayoutServerLoad = ({ locals, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
};
