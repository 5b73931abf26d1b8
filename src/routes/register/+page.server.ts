import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { sendVerificationEmail } from '$lib/server/account-mail';
import { getDb, platformEnv } from '$lib/server/db';
import {
	DisplayName,
	Email,
	NewPassword,
	Username,
	parseForm,
	rejectForm
} from '$lib/server/forms';
import { getMailer } from '$lib/server/mailer';
import { configuredProviders } from '$lib/server/oauth';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import { sessionMeta, startSession } from '$lib/server/session';
import { normalizeEmail, registerUser } from '$lib/server/users';
import type { Actions, PageServerLoad } from './$types';

const Registration = v.object({
	email: Email,
	username: Username,
	displayName: DisplayName,
	password: NewPassword
});

export const load: PageServerLoad = ({ locals, platform }) => {
	if (locals.user) redirect(303, '/');
	return { providers: configuredProviders(platformEnv(platform)) };
};

export const actions: Actions = {
	default: async ({ request, platform, cookies, url, setHeaders }) => {
		const form = parseForm(Registration, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const { password: _, ...values } = form.data;
		const env = platformEnv(platform);
		const db = getDb(env.DB);
		const limit = await consumeRateLimits(db, [
			[RateLimits.registerPerIp, clientIp(request)],
			[RateLimits.registerPerAccount, form.data.email]
		]);
		if (!limit.ok) return rejectRateLimited(setHeaders, limit.retryAfterSeconds, values);

		const result = await registerUser(db, form.data);
		if (!result.ok) return rejectForm(values, { [result.field]: result.message });
		await startSession(db, cookies, result.userId, sessionMeta(request, platform?.cf));
		// The account works before the address is confirmed; Settings offers to resend the link.
		await sendVerificationEmail(
			{ db, mailer: getMailer(env, db), origin: url.origin },
			{ id: result.userId, email: normalizeEmail(values.email), displayName: values.displayName }
		).catch((e: unknown) => console.error('The verification email could not be sent:', e));
		redirect(303, '/');
	}
};
