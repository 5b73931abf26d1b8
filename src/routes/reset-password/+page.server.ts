import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { resetPasswordWithToken } from '$lib/server/accounts/accounts';
import { getDb, platformEnv } from '$lib/server/db';
import { LinkToken, NewPassword, parseForm, rejectForm } from '$lib/server/forms';
import { realtimeOf } from '$lib/server/realtime/effects';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import type { Actions } from './$types';

const Reset = v.object({ token: LinkToken, password: NewPassword });

export const actions: Actions = {
	reset: async ({ request, platform, locals, setHeaders }) => {
		const form = parseForm(Reset, await request.formData(), ['password', 'token']);
		if (!form.ok) return rejectForm({}, form.errors);
		const env = platformEnv(platform);
		const db = getDb(env.DB);
		const limit = await consumeRateLimits(db, [[RateLimits.resetPerIp, clientIp(request)]]);
		if (!limit.ok) return rejectRateLimited(setHeaders, limit.retryAfterSeconds, {});
		const result = await resetPasswordWithToken(
			db,
			form.data.token,
			form.data.password,
			locals.session?.id ?? null
		);
		if (!result.ok) {
			return fail(400, {
				values: {},
				errors: { token: 'This link has expired or was already used. Ask for a new one.' }
			});
		}
		await closeSessionSockets(db, realtimeOf(env), result.userId, result.endedSessions);
		redirect(303, locals.user?.id === result.userId ? '/' : '/login?notice=password-reset');
	}
};
