import type { Cookies } from '@sveltejs/kit';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { CodeChallengeMethod, OAuth2Client, generateCodeVerifier, generateState } from 'arctic';
import * as v from 'valibot';

export const PROVIDERS = ['github', 'google'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
export const PROVIDER_LABELS: Record<ProviderName, string> = { github: 'GitHub', google: 'Google' };

/** Who the provider says signed in. `email` is set only when the provider has verified it. */
export type ProviderProfile = {
	provider: ProviderName;
	providerUserId: string;
	email: string | null;
	username: string;
	displayName: string;
};

export interface OAuthProvider {
	name: ProviderName;
	createAuthorizationURL(state: string, codeVerifier: string): URL;
	/** Trades the callback's code for an access token. */
	exchangeCode(code: string, codeVerifier: string): Promise<string>;
	fetchProfile(accessToken: string): Promise<ProviderProfile>;
}

// Client ids and secrets are secrets (absent until configured), and the endpoints default to the
// real providers: tests and local stand-ins override them. Read and checked here, never cast.
const Url = v.pipe(v.string(), v.url());
const OAuthEnv = v.object({
	GITHUB_CLIENT_ID: v.optional(v.string()),
	GITHUB_CLIENT_SECRET: v.optional(v.string()),
	GITHUB_AUTHORIZE_URL: v.optional(Url, 'https://github.com/login/oauth/authorize'),
	GITHUB_TOKEN_URL: v.optional(Url, 'https://github.com/login/oauth/access_token'),
	GITHUB_API_URL: v.optional(Url, 'https://api.github.com'),
	GOOGLE_CLIENT_ID: v.optional(v.string()),
	GOOGLE_CLIENT_SECRET: v.optional(v.string()),
	GOOGLE_AUTHORIZE_URL: v.optional(Url, 'https://accounts.google.com/o/oauth2/v2/auth'),
	GOOGLE_TOKEN_URL: v.optional(Url, 'https://oauth2.googleapis.com/token'),
	GOOGLE_USERINFO_URL: v.optional(Url, 'https://openidconnect.googleapis.com/v1/userinfo')
});
type OAuthConfig = v.InferOutput<typeof OAuthEnv>;

export function isProviderName(value: string): value is ProviderName {
	return (PROVIDERS as readonly string[]).includes(value);
}

/** The providers this deployment has credentials for, in display order. */
export function configuredProviders(env: Env): ProviderName[] {
	const config = v.parse(OAuthEnv, env);
	return PROVIDERS.filter((name) => credentials(config, name) !== null);
}

export function getOAuthProvider(
	env: Env,
	name: ProviderName,
	origin: string
): OAuthProvider | null {
	const config = v.parse(OAuthEnv, env);
	const creds = credentials(config, name);
	if (!creds) return null;
	const client = new OAuth2Client(creds.id, creds.secret, `${origin}/auth/${name}/callback`);
	return name === 'github' ? gitHub(client, config) : google(client, config);
}

function credentials(config: OAuthConfig, name: ProviderName) {
	const id = name === 'github' ? config.GITHUB_CLIENT_ID : config.GOOGLE_CLIENT_ID;
	const secret = name === 'github' ? config.GITHUB_CLIENT_SECRET : config.GOOGLE_CLIENT_SECRET;
	return id && secret ? { id, secret } : null;
}

const GitHubUser = v.object({
	id: v.number(),
	login: v.string(),
	name: v.nullish(v.string())
});
const GitHubEmails = v.array(
	v.object({ email: v.string(), primary: v.boolean(), verified: v.boolean() })
);

function gitHub(client: OAuth2Client, config: OAuthConfig): OAuthProvider {
	const api = config.GITHUB_API_URL.replace(/\/$/, '');
	return {
		name: 'github',
		createAuthorizationURL: (state) =>
			client.createAuthorizationURL(config.GITHUB_AUTHORIZE_URL, state, [
				'read:user',
				'user:email'
			]),
		async exchangeCode(code) {
			const tokens = await client.validateAuthorizationCode(config.GITHUB_TOKEN_URL, code, null);
			return tokens.accessToken();
		},
		async fetchProfile(accessToken) {
			const [user, emails] = await Promise.all([
				getJson(`${api}/user`, accessToken, GitHubUser),
				getJson(`${api}/user/emails`, accessToken, GitHubEmails)
			]);
			const verified = emails.filter((e) => e.verified);
			const email = (verified.find((e) => e.primary) ?? verified[0])?.email ?? null;
			return {
				provider: 'github',
				providerUserId: String(user.id),
				email: email?.toLowerCase() ?? null,
				username: user.login,
				displayName: user.name?.trim() || user.login
			};
		}
	};
}

const GoogleUser = v.object({
	sub: v.string(),
	email: v.optional(v.string()),
	email_verified: v.optional(v.boolean()),
	name: v.optional(v.string())
});

function google(client: OAuth2Client, config: OAuthConfig): OAuthProvider {
	return {
		name: 'google',
		createAuthorizationURL: (state, codeVerifier) =>
			client.createAuthorizationURLWithPKCE(
				config.GOOGLE_AUTHORIZE_URL,
				state,
				CodeChallengeMethod.S256,
				codeVerifier,
				['openid', 'email', 'profile']
			),
		async exchangeCode(code, codeVerifier) {
			const tokens = await client.validateAuthorizationCode(
				config.GOOGLE_TOKEN_URL,
				code,
				codeVerifier
			);
			return tokens.accessToken();
		},
		async fetchProfile(accessToken) {
			const user = await getJson(config.GOOGLE_USERINFO_URL, accessToken, GoogleUser);
			const email = user.email && user.email_verified ? user.email.toLowerCase() : null;
			return {
				provider: 'google',
				providerUserId: user.sub,
				email,
				username: (user.email ?? '').split('@')[0] ?? '',
				displayName: user.name?.trim() || (user.email ?? '').split('@')[0] || 'New user'
			};
		}
	};
}

class OAuthRequestFailed extends Error {}

async function getJson<S extends v.GenericSchema>(
	url: string,
	accessToken: string,
	schema: S
): Promise<v.InferOutput<S>> {
	const response = await fetch(url, {
		headers: {
			authorization: `Bearer ${accessToken}`,
			accept: 'application/json',
			// GitHub's API refuses requests without one.
			'user-agent': 'Parley'
		}
	});
	if (!response.ok) throw new OAuthRequestFailed(`${url} answered HTTP ${response.status}`);
	const parsed = v.safeParse(schema, await response.json().catch(() => null));
	if (!parsed.success) throw new OAuthRequestFailed(`${url} answered in an unexpected shape`);
	return parsed.output;
}

// The round trip through the provider: what the browser must bring back to the callback.

const STATE_COOKIE = 'parley_oauth_state';
const VERIFIER_COOKIE = 'parley_oauth_verifier';
const INTENT_COOKIE = 'parley_oauth_intent';
const ROUND_TRIP_SECONDS = 10 * 60;

export type OAuthIntent = 'sign-in' | 'link' | 'reauthenticate';
const INTENTS: readonly OAuthIntent[] = ['sign-in', 'link', 'reauthenticate'];
export type OAuthRoundTrip = { codeVerifier: string; intent: OAuthIntent };

/** Starts a sign-in or link: remembers state and PKCE verifier, returns where to send the browser. */
export function beginOAuth(cookies: Cookies, provider: OAuthProvider, intent: OAuthIntent): URL {
	const state = generateState();
	const codeVerifier = generateCodeVerifier();
	const options = {
		path: '/auth',
		httpOnly: true,
		secure: true,
		sameSite: 'lax',
		maxAge: ROUND_TRIP_SECONDS
	} as const;
	cookies.set(STATE_COOKIE, state, options);
	cookies.set(VERIFIER_COOKIE, codeVerifier, options);
	cookies.set(INTENT_COOKIE, intent, options);
	return provider.createAuthorizationURL(state, codeVerifier);
}

/**
 * Checks the callback's `state` against the cookie this browser got when it left (so a code
 * from someone else's flow is refused) and forgets the round trip either way: it is single-use.
 */
export function finishOAuth(cookies: Cookies, returnedState: string | null): OAuthRoundTrip | null {
	const state = cookies.get(STATE_COOKIE);
	const codeVerifier = cookies.get(VERIFIER_COOKIE);
	const intent = INTENTS.find((known) => known === cookies.get(INTENT_COOKIE)) ?? 'sign-in';
	for (const name of [STATE_COOKIE, VERIFIER_COOKIE, INTENT_COOKIE]) {
		cookies.delete(name, { path: '/auth' });
	}
	if (!state || !codeVerifier || !returnedState) return null;
	const encoder = new TextEncoder();
	const a = encoder.encode(state);
	const b = encoder.encode(returnedState);
	if (a.length !== b.length || !constantTimeEqual(a, b)) return null;
	return { codeVerifier, intent };
}

// A first sign-in pauses on /welcome to choose a username. Instead of trusting a cookie with the
// profile in it (which would need a server-side signing key), the browser keeps the provider's
// access token and the server asks the provider again: the provider vouches for the identity.

const SIGNUP_COOKIE = 'parley_oauth_signup';
const SIGNUP_SECONDS = 30 * 60;

export function rememberSignup(
	cookies: Cookies,
	provider: ProviderName,
	accessToken: string
): void {
	cookies.set(SIGNUP_COOKIE, `${provider}:${accessToken}`, {
		path: '/welcome',
		httpOnly: true,
		secure: true,
		sameSite: 'lax',
		maxAge: SIGNUP_SECONDS
	});
}

export function recallSignup(
	cookies: Cookies
): { provider: ProviderName; accessToken: string } | null {
	const value = cookies.get(SIGNUP_COOKIE) ?? '';
	const split = value.indexOf(':');
	const provider = value.slice(0, split);
	const accessToken = value.slice(split + 1);
	return split > 0 && accessToken && isProviderName(provider) ? { provider, accessToken } : null;
}

export function forgetSignup(cookies: Cookies): void {
	cookies.delete(SIGNUP_COOKIE, { path: '/welcome' });
}
