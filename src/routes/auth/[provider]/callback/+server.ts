import { error, redirect } from '@sveltejs/kit';
import { getDb, platformEnv } from '$lib/server/db';
import {
	finishOAuth,
	getOAuthProvider,
	isProviderName,
	rememberSignup,
	type ProviderProfile
} from '$lib/server/auth/oauth';
import {
	confirmProviderIdentity,
	linkProvider,
	resolveProviderSignIn
} from '$lib/server/auth/oauth-accounts';
import { invalidateSession, sessionMeta, startSession } from '$lib/server/auth/session';
import { requireSignedIn } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/** Where the provider sends the browser back, with a code (or an error) and our state. */
export const GET: RequestHandler = async (event) => {
	const { params, platform, url, cookies, locals, request } = event;
	if (!isProviderName(params.provider)) error(404, 'There is no such sign-in provider.');
	const name = params.provider;
	const env = platformEnv(platform);
	const provider = getOAuthProvider(env, name, url.origin);
	if (!provider) error(404, 'This sign-in provider is not set up on this server.');

	const roundTrip = finishOAuth(cookies, url.searchParams.get('state'));
	if (!roundTrip) {
		error(
			400,
			'This sign-in attempt expired or was started in another browser. Please start again.'
		);
	}
	const back = roundTrip.intent === 'sign-in' ? '/login' : '/settings/account';
	const code = url.searchParams.get('code');
	if (!code) redirect(303, `${back}?notice=cancelled&provider=${name}`);

	let accessToken: string;
	let profile: ProviderProfile;
	try {
		accessToken = await provider.exchangeCode(code, roundTrip.codeVerifier);
		profile = await provider.fetchProfile(accessToken);
	} catch (e) {
		console.error(`${name} sign-in failed:`, e instanceof Error ? e.message : 'unknown error');
		redirect(303, `${back}?notice=failed&provider=${name}`);
	}

	const db = getDb(env.DB);
	if (roundTrip.intent === 'link') {
		const { user } = requireSignedIn(event, { next: '/settings/account' });
		const linked = await linkProvider(db, user.id, profile);
		redirect(
			303,
			`/settings/account?notice=${linked.ok ? 'linked' : linked.notice}&provider=${name}`
		);
	}

	if (roundTrip.intent === 'reauthenticate') {
		const { session } = requireSignedIn(event, { next: '/settings/account' });
		const confirmed = await confirmProviderIdentity(db, session, profile);
		redirect(
			303,
			`/settings/account?notice=${confirmed ? 'reauthenticated' : 'reauth-mismatch'}&provider=${name}`
		);
	}

	const outcome = await resolveProviderSignIn(db, profile);
	if (outcome.kind === 'refused') redirect(303, `/login?notice=${outcome.notice}&provider=${name}`);
	if (outcome.kind === 'choose-username') {
		rememberSignup(cookies, name, accessToken);
		redirect(303, '/welcome');
	}
	if (locals.session) await invalidateSession(db, locals.session.id);
	const started = await startSession(db, cookies, outcome.userId, {
		...sessionMeta(request, platform?.cf),
		providerAuth: true
	});
	if (!started.ok) redirect(303, '/login?notice=suspended');
	redirect(303, '/');
};
