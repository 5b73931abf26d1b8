import * as v from 'valibot';
import { sendPasswordResetEmail } from '$lib/server/accounts/mail';
import { getDb, platformEnv } from '$lib/server/db';
import { Email, parseForm, rejectForm } from '$lib/server/forms';
import { getMailer } from '$lib/server/accounts/mailer';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import { findUserByLogin } from '$lib/server/accounts/users';
import type { Actions } from './$types';

const ResetRequest = v.object({ email: Email });

export const actions: Actions = {
	request: async ({ request, platform, url, setHeaders }) => {
		const form = parseForm(ResetRequest, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const env = platformEnv(platform);
		const db = getDb(env.DB);
		const limit = await consumeRateLimits(db, [
			[RateLimits.resetRequestPerIp, clientIp(request)],
			[RateLimits.resetRequestPerAccount, form.data.email]
		]);
		if (!limit.ok) {
			return rejectRateLimited(setHeaders, limit.retryAfterSeconds, { email: form.data.email });
		}
		// Before the lookup: a deployment without mail settings refuses every address alike, rather
		// than failing only for those that have an account.
		const mailer = getMailer(env, db);
		const user = await findUserByLogin(db, form.data.email);
		if (user) {
			// Sent after the answer so that its timing doesn't tell whether the account exists.
			const sending = sendPasswordResetEmail({ db, mailer, origin: url.origin }, user).catch(
				(e: unknown) => console.error('The password reset email could not be sent:', e)
			);
			if (platform?.ctx) platform.ctx.waitUntil(sending);
			else await sending;
		}
		// The same answer for every address: this form must not reveal who has an account.
		return { sentTo: form.data.email };
	}
};
