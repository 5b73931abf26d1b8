// Provider round trips as a browser makes them, through the app's real routes and the local
// stand-in provider: sign in, link from settings, re-authenticate.
import { GET as startSignIn } from '../../src/routes/auth/[provider]/+server';
import { GET as callback } from '../../src/routes/auth/[provider]/callback/+server';
import { actions as accountActions } from '../../src/routes/settings/account/+page.server';
import type { GitHubIdentity, GoogleIdentity, ProviderStandIn } from './oauth-provider';
import type { Outcome, TestBrowser } from './request-event';

export type ProviderName = 'github' | 'google';

let ids = 0;

export function gitHubUser(
	name: string,
	email: { email: string; verified: boolean } | null
): GitHubIdentity {
	const id = 500_000 + ++ids + Math.floor(Math.random() * 400_000);
	return {
		id,
		login: `${name}-gh${id}`,
		name: name[0]!.toUpperCase() + name.slice(1),
		emails: email ? [{ ...email, primary: true }] : []
	};
}

export function googleUser(name: string, email: string, verified = true): GoogleIdentity {
	return {
		sub: `g-${++ids}-${Math.random().toString(36).slice(2, 8)}`,
		email,
		email_verified: verified,
		name
	};
}

export function location(outcome: Outcome): string {
	if (outcome.kind !== 'redirect') {
		throw new Error(`expected a redirect, got ${JSON.stringify(outcome)}`);
	}
	return outcome.location;
}

export function returnTo(browser: TestBrowser, url: URL, name: ProviderName) {
	return browser.call(callback, { path: url.pathname + url.search, params: { provider: name } });
}

/** "Continue with …" on the login page: off to the provider, consent, and back to the callback. */
export async function signInWith(
	provider: ProviderStandIn,
	browser: TestBrowser,
	name: ProviderName
): Promise<Outcome> {
	const start = await browser.call(startSignIn, {
		path: `/auth/${name}`,
		params: { provider: name }
	});
	return returnTo(browser, await provider.consent(location(start)), name);
}

/** "Link" in the account settings, through the provider and back. */
export async function linkFromSettings(
	provider: ProviderStandIn,
	browser: TestBrowser,
	name: ProviderName
): Promise<Outcome> {
	const start = await browser.call(accountActions.link!, {
		path: '/settings/account?/link',
		form: { provider: name }
	});
	return returnTo(browser, await provider.consent(location(start)), name);
}
