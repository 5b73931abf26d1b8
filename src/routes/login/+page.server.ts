import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { parseForm, rejectForm } from '$lib/server/forms';
import { configuredProviders } from '$lib/server/auth/oauth';
import { describeOAuthNotice } from '$lib/server/auth/oauth-accounts';
import { attemptPassword } from '$lib/server/auth/password-attempts';
import { rejectRateLimited } from '$lib/server/rate-limit';
import { sessionMeta, startSession } from '$lib/server/auth/session';
import { findUserByLogin } from '$lib/server/accounts/users';
import type { Actions, PageServerLoad } from './$types';

const Login = v.object({
	login: v.pipe(v.string(), v.trim(), v.nonEmpty('Enter your email or username.')),
	password: v.pipe(v.string(), v.nonEmpty('Enter your password.'))
});

/** The same answer whether the account exists or not. */
const BAD_CREDENTIALS = 'That email or username and password do not match.';

/** Messages other pages send people here with (`?notice=`). */
const NOTICES: Record<string, string> = {
	'password-reset': 'Your password has been changed. Log in with the new one.',
	'signed-out-everywhere': 'You are signed out on every device.',
	'account-deleted': 'Your account has been deleted.',
	// A provider's sign-in of a suspended account; the password form says the reason as well.
	suspended: 'This account has been suspended by the site’s admins.'
};

export const load: PageServerLoad = ({ locals, url, platform }) => {
	if (locals.user) redirect(303, safeRedirect(url.searchParams.get('next')));
	const notice = url.searchParams.get('notice');
	return {
		providers: configuredProviders(platformEnv(platform)),
		notice:
			(notice && NOTICES[notice]) ?? describeOAuthNotice(notice, url.searchParams.get('provider'))
	};
};

export const actions: Actions = {
	default: async ({ request, platform, cookies, url, setHeaders }) => {
		const form = parseForm(Login, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const values = { login: form.data.login };
		const db = getDb(platformEnv(platform).DB);
		const user = await findUserByLogin(db, form.data.login);
		const attempt = await attemptPassword(db, request, cookies, user, form.data);
		if (!attempt.ok && attempt.status === 429) {
			return rejectRateLimited(setHeaders, attempt.retryAfterSeconds, values);
		}
		if (!attempt.ok || !user) return rejectForm(values, { form: BAD_CREDENTIALS });
		// Only now, with the right password, is the suspension (and its reason) told.
		const started = await startSession(db, cookies, user.id, sessionMeta(request, platform?.cf));
		if (!started.ok) return rejectForm(values, { form: started.message });
		redirect(303, safeRedirect(url.searchParams.get('next')));
	}
};

/** Only same-site paths: `next` must not become an open redirect. */
function safeRedirect(next: string | null): string {
	return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\')
		? next
		: '/';
}
