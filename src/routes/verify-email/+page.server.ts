import { fail } from '@sveltejs/kit';
import * as v from 'valibot';
import { sendVerificationEmail } from '$lib/server/accounts/mail';
import { confirmEmailToken } from '$lib/server/accounts/accounts';
import { getDb, platformEnv } from '$lib/server/db';
import { LinkToken, parseForm } from '$lib/server/forms';
import { getMailer } from '$lib/server/accounts/mailer';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import { realtimeOf } from '$lib/server/realtime/effects';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';
import { requireSignedIn } from '$lib/server/request-context';
import type { Actions, PageServerLoad } from './$types';

const Confirmation = v.object({ token: LinkToken });

export const load: PageServerLoad = ({ locals }) => ({
	account: locals.user ? { email: locals.user.email, verified: locals.user.emailVerified } : null
});

export const actions: Actions = {
	confirm: async ({ request, platform, setHeaders, locals }) => {
		const form = parseForm(Confirmation, await request.formData());
		if (!form.ok) return fail(400, { values: {}, errors: { form: form.errors.token ?? '' } });
		const env = platformEnv(platform);
		const db = getDb(env.DB);
		const limit = await consumeRateLimits(db, [[RateLimits.verifyPerIp, clientIp(request)]]);
		if (!limit.ok) return rejectRateLimited(setHeaders, limit.retryAfterSeconds, {});
		const result = await confirmEmailToken(db, form.data.token, locals.session?.id ?? null);
		if (!result.ok) return fail(400, { values: {}, errors: { form: result.message } });
		await closeSessionSockets(db, realtimeOf(env), result.userId, result.endedSessions);
		return { confirmed: { purpose: result.purpose, email: result.email } };
	},

	resend: async (event) => {
		const { request, url, setHeaders } = event;
		const { user, env, db } = requireSignedIn(event);
		if (user.emailVerified) return { resent: false };
		const limit = await consumeRateLimits(db, [
			[RateLimits.verifyEmailSendPerAccount, user.id],
			[RateLimits.verifyPerIp, clientIp(request)]
		]);
		if (!limit.ok) return rejectRateLimited(setHeaders, limit.retryAfterSeconds, {});
		await sendVerificationEmail({ db, mailer: getMailer(env, db), origin: url.origin }, user);
		return { resent: true };
	}
};
