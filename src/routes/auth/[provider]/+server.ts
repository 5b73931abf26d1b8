import { error, redirect } from '@sveltejs/kit';
import { platformEnv } from '$lib/server/db';
import {
	PROVIDER_LABELS,
	beginOAuth,
	getOAuthProvider,
	isProviderName
} from '$lib/server/auth/oauth';
import type { RequestHandler } from './$types';

/** "Continue with GitHub/Google": off to the provider, with a state cookie to come back with. */
export const GET: RequestHandler = ({ params, platform, url, cookies }) => {
	if (!isProviderName(params.provider)) error(404, 'There is no such sign-in provider.');
	const provider = getOAuthProvider(platformEnv(platform), params.provider, url.origin);
	if (!provider) {
		error(404, `Signing in with ${PROVIDER_LABELS[params.provider]} is not set up on this server.`);
	}
	redirect(302, beginOAuth(cookies, provider, 'sign-in'));
};
