import { error, redirect } from '@sveltejs/kit';
import { platformEnv } from '$lib/server/db';
import {
	PROVIDER_LABELS,
	beginOAuth,
	getOAuthProvider,
	isProviderName
} from '$lib/server/auth/oauth';
import { requireSignedIn } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * "Confirm it's you with GitHub/Google": an account without a password proves itself again at a
 * provider linked to it before settings let it change its email or set a password.
 */
export const GET: RequestHandler = (event) => {
	const { params, platform, url, cookies } = event;
	if (!isProviderName(params.provider)) error(404, 'There is no such sign-in provider.');
	requireSignedIn(event, { next: '/settings/account' });
	const provider = getOAuthProvider(platformEnv(platform), params.provider, url.origin);
	if (!provider) {
		error(404, `Signing in with ${PROVIDER_LABELS[params.provider]} is not set up on this server.`);
	}
	redirect(302, beginOAuth(cookies, provider, 'reauthenticate'));
};
