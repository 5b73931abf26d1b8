import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireSignedIn } from '$lib/server/request-context';
import { parseForm, rejectForm } from '$lib/server/forms';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';
import {
	deleteSessionTokenCookie,
	invalidateAllSessions,
	invalidateOtherSessions,
	listSessions,
	revokeSession
} from '$lib/server/auth/session';
import { describeUserAgent } from '$lib/user-agent';
import type { Actions, PageServerLoad } from './$types';

const Revocation = v.object({
	sessionId: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'That session does not exist.'))
});

export const load: PageServerLoad = async (event) => {
	const { db, user, session } = requireSignedIn(event);
	const sessions = await listSessions(db, user.id);
	return {
		sessions: sessions.map(({ userAgent, ...row }) => ({
			...row,
			...describeUserAgent(userAgent),
			current: row.id === session.id
		}))
	};
};

export const actions: Actions = {
	revoke: async (event) => {
		const { db, rt, user, session } = requireSignedIn(event);
		const form = parseForm(Revocation, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, { form: form.errors.sessionId ?? '' });
		if (!(await revokeSession(db, user.id, form.data.sessionId))) {
			return rejectForm({}, { form: 'That session has already ended.' });
		}
		await closeSessionSockets(db, rt, user.id, [form.data.sessionId]);
		if (form.data.sessionId === session.id) {
			deleteSessionTokenCookie(event.cookies);
			redirect(303, '/login');
		}
		return { message: 'Session signed out.' };
	},

	revokeOthers: async (event) => {
		const { db, rt, user, session } = requireSignedIn(event);
		await closeSessionSockets(
			db,
			rt,
			user.id,
			await invalidateOtherSessions(db, user.id, session.id)
		);
		return { message: 'All your other sessions are signed out.' };
	},

	signOutEverywhere: async (event) => {
		const { db, rt, user } = requireSignedIn(event);
		await closeSessionSockets(db, rt, user.id, await invalidateAllSessions(db, user.id));
		deleteSessionTokenCookie(event.cookies);
		redirect(303, '/login?notice=signed-out-everywhere');
	}
};
