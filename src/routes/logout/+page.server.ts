import { redirect } from '@sveltejs/kit';
import { getDb, platformEnv } from '$lib/server/db';
import { realtimeOf } from '$lib/server/realtime/effects';
import { deleteSessionTokenCookie, invalidateSession } from '$lib/server/auth/session';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
	default: async ({ locals, platform, cookies }) => {
		if (locals.session) {
			// Other tabs of this browser share the session: they are signed out too.
			const env = platformEnv(platform);
			const db = getDb(env.DB);
			await invalidateSession(db, locals.session.id);
			await closeSessionSockets(db, realtimeOf(env), locals.session.userId, [locals.session.id]);
		}
		deleteSessionTokenCookie(cookies);
		redirect(303, '/login');
	}
};
