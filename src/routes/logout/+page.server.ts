import { redirect } from '@sveltejs/kit';
import { getDb, platformEnv } from '$lib/server/db';
import { deleteSessionTokenCookie, invalidateSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ locals, platform, cookies }) => {
		if (locals.session) await invalidateSession(getDb(platformEnv(platform).DB), locals.session.id);
		deleteSessionTokenCookie(cookies);
		redirect(303, '/login');
	}
};
