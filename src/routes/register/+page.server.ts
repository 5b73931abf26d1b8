import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import {
	sendFinishRegistrationEmail,
	sendRegistrationAttemptEmail
} from '$lib/server/accounts/mail';
import { getDb, platformEnv } from '$lib/server/db';
import {
	DisplayName,
	Email,
	NewPassword,
	Username,
	parseForm,
	rejectForm
} from '$lib/server/forms';
import { getMailer } from '$lib/server/accounts/mailer';
import { configuredProviders } from '$lib/server/auth/oauth';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import { startRegistration } from '$lib/server/accounts/users';
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
	default: async ({ request, platform, url, setHeaders }) => {
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

		// Before anything is written: a deployment without mail settings refuses every sign-up alike
		// and keeps no pending one that could never be finished.
		const deps = { mailer: getMailer(env, db), origin: url.origin };
		const result = await startRegistration(db, form.data);
		if (!result.ok) return rejectForm(values, { [result.field]: result.message });
		// Whether the address has an account decides only which email goes out, after the answer,
		// so neither the answer nor its timing says which it was.
		const sending = (
			result.kind === 'pending'
				? sendFinishRegistrationEmail(deps, {
						email: result.email,
						displayName: values.displayName,
						token: result.token
					})
				: sendRegistrationAttemptEmail(deps, result.owner)
		).catch((e: unknown) => console.error('The registration email could not be sent:', e));
		if (platform?.ctx) platform.ctx.waitUntil(sending);
		else await sending;
		return { sentTo: values.email };
	}
};
