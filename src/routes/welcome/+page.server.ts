import { redirect, type Cookies } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { DisplayName, Username, parseForm, rejectForm } from '$lib/server/forms';
import {
	PROVIDER_LABELS,
	forgetSignup,
	getOAuthProvider,
	recallSignup,
	type ProviderProfile
} from '$lib/server/auth/oauth';
import {
	createUserFromProvider,
	resolveProviderSignIn,
	suggestUsername
} from '$lib/server/auth/oauth-accounts';
import { RateLimits, clientIp, consumeRateLimits, rejectRateLimited } from '$lib/server/rate-limit';
import { sessionMeta, startSession } from '$lib/server/auth/session';
import type { Actions, PageServerLoad } from './$types';

const Welcome = v.object({ username: Username, displayName: DisplayName });

/** Asks the provider again who this is (see `rememberSignup`); null when that is no longer possible. */
async function pendingProfile(
	cookies: Cookies,
	env: Env,
	origin: string
): Promise<ProviderProfile | null> {
	const signup = recallSignup(cookies);
	const provider = signup && getOAuthProvider(env, signup.provider, origin);
	if (!signup || !provider) return null;
	return provider.fetchProfile(signup.accessToken).catch(() => null);
}

export const load: PageServerLoad = async ({ cookies, platform, url, locals }) => {
	if (locals.user) redirect(303, '/');
	const env = platformEnv(platform);
	const profile = await pendingProfile(cookies, env, url.origin);
	if (!profile?.email) {
		forgetSignup(cookies);
		redirect(303, '/login?notice=failed');
	}
	return {
		provider: PROVIDER_LABELS[profile.provider],
		email: profile.email,
		suggestion: {
			username: await suggestUsername(getDb(env.DB), profile.username),
			displayName: profile.displayName.slice(0, 64)
		}
	};
};

export const actions: Actions = {
	create: async ({ request, cookies, platform, url, setHeaders }) => {
		const form = parseForm(Welcome, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const env = platformEnv(platform);
		const db = getDb(env.DB);
		const limit = await consumeRateLimits(db, [[RateLimits.registerPerIp, clientIp(request)]]);
		if (!limit.ok) return rejectRateLimited(setHeaders, limit.retryAfterSeconds, form.data);

		const profile = await pendingProfile(cookies, env, url.origin);
		if (!profile?.email) redirect(303, '/login?notice=failed');
		// The situation may have changed since the callback (a second tab, a link made meanwhile).
		const outcome = await resolveProviderSignIn(db, profile);
		if (outcome.kind === 'refused') {
			forgetSignup(cookies);
			redirect(303, `/login?notice=${outcome.notice}&provider=${profile.provider}`);
		}
		let userId: string;
		if (outcome.kind === 'sign-in') {
			userId = outcome.userId;
		} else {
			const created = await createUserFromProvider(
				db,
				{ ...profile, email: profile.email },
				form.data
			);
			if (!created.ok) return rejectForm(form.data, { [created.field]: created.message });
			userId = created.userId;
		}
		forgetSignup(cookies);
		// The provider just proved who this is: setting a first password needs no second trip there.
		const started = await startSession(db, cookies, userId, {
			...sessionMeta(request, platform?.cf),
			providerAuth: true
		});
		if (!started.ok) redirect(303, '/login?notice=suspended');
		redirect(303, '/');
	}
};
