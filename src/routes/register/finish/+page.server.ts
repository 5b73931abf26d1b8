import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { LinkToken, parseForm } from '$lib/server/forms';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import { sessionMeta, startSession } from '$lib/server/auth/session';
import { finishRegistration } from '$lib/server/accounts/users';
import type { Actions } from './$types';

const Finish = v.object({ token: LinkToken });

// Opening the link only shows a button (the page reads the secret from the fragment): mail
// scanners that fetch every link in a message would otherwise spend it before its owner clicks.
export const actions: Actions = {
	finish: async ({ request, platform, cookies, setHeaders }) => {
		const form = parseForm(Finish, await request.formData());
		if (!form.ok) return fail(400, { errors: { form: form.errors.token ?? '' } });
		const env = platformEnv(platform);
		const db = getDb(env.DB);
		const limit = await consumeRateLimits(db, [[RateLimits.verifyPerIp, clientIp(request)]]);
		if (!limit.ok) return rejectRateLimited(setHeaders, limit.retryAfterSeconds, {});

		const result = await finishRegistration(db, form.data.token);
		if (!result.ok) {
			switch (result.reason) {
				case 'invalid':
					return fail(400, {
						reason: result.reason,
						errors: { form: 'This link has expired or was already used.' }
					});
				case 'username-taken':
					return fail(400, {
						reason: result.reason,
						username: result.username,
						errors: {
							form: `Someone took the username ${result.username} before you opened the link.`
						}
					});
				case 'email-taken':
					// Only someone who read this inbox holds the link, so this tells no stranger anything.
					return fail(400, {
						reason: result.reason,
						email: result.email,
						errors: { form: `You already have an account with ${result.email}.` }
					});
			}
		}
		await startSession(db, cookies, result.userId, sessionMeta(request, platform?.cf));
		redirect(303, '/');
	}
};
