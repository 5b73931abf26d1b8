import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { parseForm, rejectForm } from '$lib/server/forms';
import { verifyPassword } from '$lib/server/password';
import { createSession, generateSessionToken, setSessionTokenCookie } from '$lib/server/session';
import { findUserByLogin } from '$lib/server/users';
import type { Actions, PageServerLoad } from './$types';

const Login = v.object({
	login: v.pipe(v.string(), v.trim(), v.nonEmpty('Enter your email or username.')),
	password: v.pipe(v.string(), v.nonEmpty('Enter your password.'))
});

/** The same answer whether the account exists or not. */
const BAD_CREDENTIALS = 'That email or username and password do not match.';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user) redirect(303, safeRedirect(url.searchParams.get('next')));
};

export const actions: Actions = {
	default: async ({ request, platform, cookies, url }) => {
		const form = parseForm(Login, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const db = getDb(platformEnv(platform).DB);
		const user = await findUserByLogin(db, form.data.login);
		const valid = user?.passwordHash
			? await verifyPassword(user.passwordHash, form.data.password)
			: false;
		if (!user || !valid) {
			return rejectForm({ login: form.data.login }, { form: BAD_CREDENTIALS });
		}
		const token = generateSessionToken();
		const session = await createSession(db, token, user.id, {
			userAgent: request.headers.get('user-agent')
		});
		setSessionTokenCookie(cookies, token, session.expiresAt);
		redirect(303, safeRedirect(url.searchParams.get('next')));
	}
};

/** Only same-site paths: `next` must not become an open redirect. */
function safeRedirect(next: string | null): string {
	return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}
