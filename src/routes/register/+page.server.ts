import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { DisplayName, Email, Username, parseForm, rejectForm } from '$lib/server/forms';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '$lib/server/password';
import { createSession, generateSessionToken, setSessionTokenCookie } from '$lib/server/session';
import { registerUser } from '$lib/server/users';
import type { Actions, PageServerLoad } from './$types';

const Registration = v.object({
	email: Email,
	username: Username,
	displayName: DisplayName,
	password: v.pipe(
		v.string(),
		v.minLength(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`),
		v.maxLength(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters.`)
	)
});

export const load: PageServerLoad = ({ locals }) => {
	if (locals.user) redirect(303, '/');
};

export const actions: Actions = {
	default: async ({ request, platform, cookies }) => {
		const form = parseForm(Registration, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const db = getDb(platformEnv(platform).DB);
		const result = await registerUser(db, form.data);
		if (!result.ok) {
			const { password: _, ...values } = form.data;
			return rejectForm(values, { [result.field]: result.message });
		}
		const token = generateSessionToken();
		const session = await createSession(db, token, result.userId, {
			userAgent: request.headers.get('user-agent')
		});
		setSessionTokenCookie(cookies, token, session.expiresAt);
		redirect(303, '/');
	}
};
