// A local stand-in for GitHub's and Google's OAuth servers, speaking their protocol over HTTP:
// the authorization endpoint (consent, redirect with code and state), the token endpoint (client
// authentication, single-use codes, redirect_uri and PKCE checks) and the user/email endpoints
// (bearer tokens). Installed as the global `fetch`, it also refuses any other host, so no test
// can reach the internet.
import { sha256 } from '@oslojs/crypto/sha2';
import { decodeBase64, encodeBase64urlNoPadding } from '@oslojs/encoding';

export type GitHubIdentity = {
	id: number;
	login: string;
	name: string | null;
	emails: { email: string; primary: boolean; verified: boolean }[];
};
export type GoogleIdentity = { sub: string; email: string; email_verified: boolean; name: string };

type Provider = 'github' | 'google';
type Grant = {
	provider: Provider;
	identity: GitHubIdentity | GoogleIdentity;
	redirectUri: string;
	codeChallenge: string | null;
};

const HOSTS = {
	githubWeb: 'github.standin.test',
	githubApi: 'api.github.standin.test',
	googleAccounts: 'accounts.google.standin.test',
	googleToken: 'oauth2.google.standin.test',
	googleUserinfo: 'openidconnect.google.standin.test'
};

const CLIENTS: Record<Provider, { id: string; secret: string }> = {
	github: { id: 'github-client-id', secret: 'github-client-secret' },
	google: { id: 'google-client-id', secret: 'google-client-secret' }
};

let counter = 0;

export class ProviderStandIn {
	/** Who is signed in at each provider and will consent when the browser arrives. */
	signedIn: { github?: GitHubIdentity; google?: GoogleIdentity } = {};
	/** Every request that reached the stand-in, for assertions on what the app sent. */
	requests: { method: string; url: string; body: string }[] = [];
	#codes = new Map<string, Grant>();
	#tokens = new Map<string, GitHubIdentity | GoogleIdentity>();

	/** The variables that point the app at this stand-in instead of the real providers. */
	readonly env = {
		GITHUB_CLIENT_ID: CLIENTS.github.id,
		GITHUB_CLIENT_SECRET: CLIENTS.github.secret,
		GITHUB_AUTHORIZE_URL: `https://${HOSTS.githubWeb}/login/oauth/authorize`,
		GITHUB_TOKEN_URL: `https://${HOSTS.githubWeb}/login/oauth/access_token`,
		GITHUB_API_URL: `https://${HOSTS.githubApi}`,
		GOOGLE_CLIENT_ID: CLIENTS.google.id,
		GOOGLE_CLIENT_SECRET: CLIENTS.google.secret,
		GOOGLE_AUTHORIZE_URL: `https://${HOSTS.googleAccounts}/o/oauth2/v2/auth`,
		GOOGLE_TOKEN_URL: `https://${HOSTS.googleToken}/token`,
		GOOGLE_USERINFO_URL: `https://${HOSTS.googleUserinfo}/v1/userinfo`
	};

	fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
		const request = new Request(input, init);
		const { method, url: address } = request;
		this.requests.push({ method, url: address, body: await request.clone().text() });
		const url = new URL(request.url);
		switch (`${request.method} ${url.host}${url.pathname}`) {
			case `GET ${HOSTS.githubWeb}/login/oauth/authorize`:
				return this.#authorize('github', url);
			case `GET ${HOSTS.googleAccounts}/o/oauth2/v2/auth`:
				return this.#authorize('google', url);
			case `POST ${HOSTS.githubWeb}/login/oauth/access_token`:
				return this.#token('github', request);
			case `POST ${HOSTS.googleToken}/token`:
				return this.#token('google', request);
			case `GET ${HOSTS.githubApi}/user`:
				return this.#withUser<GitHubIdentity>(request, ({ id, login, name }) => ({
					id,
					login,
					name
				}));
			case `GET ${HOSTS.githubApi}/user/emails`:
				return this.#withUser<GitHubIdentity>(request, (user) => user.emails);
			case `GET ${HOSTS.googleUserinfo}/v1/userinfo`:
				return this.#withUser<GoogleIdentity>(request, (user) => user);
		}
		throw new Error(`A test tried to reach ${request.method} ${request.url}`);
	};

	/** The provider's consent page, already approved: redirects back with a code and the state. */
	#authorize(provider: Provider, url: URL): Response {
		const params = url.searchParams;
		const identity = this.signedIn[provider];
		const redirectUri = params.get('redirect_uri');
		if (params.get('client_id') !== CLIENTS[provider].id || !redirectUri || !identity) {
			return new Response('unknown client or nobody signed in', { status: 400 });
		}
		if (params.get('response_type') !== 'code' || !params.get('state')) {
			return new Response('bad authorization request', { status: 400 });
		}
		let codeChallenge: string | null = null;
		if (provider === 'google') {
			// Google requires PKCE from this client: S256 only.
			if (params.get('code_challenge_method') !== 'S256') {
				return new Response('PKCE required', { status: 400 });
			}
			codeChallenge = params.get('code_challenge');
		}
		const code = `code-${provider}-${++counter}`;
		this.#codes.set(code, { provider, identity, redirectUri, codeChallenge });
		const back = new URL(redirectUri);
		back.searchParams.set('code', code);
		back.searchParams.set('state', params.get('state')!);
		return Response.redirect(back.toString(), 302);
	}

	async #token(provider: Provider, request: Request): Promise<Response> {
		const body = new URLSearchParams(await request.text());
		const [id, secret] = basicCredentials(request.headers.get('authorization'));
		const refuse = (error: string, status = 400) =>
			// GitHub answers token errors with 200 and an error body; Google with 400.
			Response.json({ error }, { status: provider === 'github' ? 200 : status });
		if (id !== CLIENTS[provider].id || secret !== CLIENTS[provider].secret) {
			return refuse('invalid_client', 401);
		}
		const code = body.get('code') ?? '';
		const grant = this.#codes.get(code);
		this.#codes.delete(code);
		if (body.get('grant_type') !== 'authorization_code' || !grant || grant.provider !== provider) {
			return refuse(provider === 'github' ? 'bad_verification_code' : 'invalid_grant');
		}
		if (body.get('redirect_uri') !== grant.redirectUri) return refuse('redirect_uri_mismatch');
		if (grant.codeChallenge !== null) {
			const verifier = body.get('code_verifier') ?? '';
			const challenge = encodeBase64urlNoPadding(sha256(new TextEncoder().encode(verifier)));
			if (challenge !== grant.codeChallenge) return refuse('invalid_grant');
		}
		const accessToken = `token-${provider}-${++counter}`;
		this.#tokens.set(accessToken, grant.identity);
		return Response.json({ access_token: accessToken, token_type: 'bearer', scope: '' });
	}

	#withUser<I>(request: Request, answer: (identity: I) => unknown): Response {
		const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '';
		const identity = this.#tokens.get(token);
		if (!identity) return Response.json({ message: 'Bad credentials' }, { status: 401 });
		return Response.json(answer(identity as I));
	}

	/** What a browser does with the app's redirect to the provider: returns the callback URL. */
	async consent(authorizationUrl: string): Promise<URL> {
		const response = await this.fetch(authorizationUrl, { redirect: 'manual' });
		const location = response.headers.get('location');
		if (response.status !== 302 || !location) {
			throw new Error(`the provider refused: ${response.status} ${await response.text()}`);
		}
		return new URL(location);
	}
}

function basicCredentials(header: string | null): [string, string] {
	if (!header?.startsWith('Basic ')) return ['', ''];
	const decoded = new TextDecoder().decode(decodeBase64(header.slice(6)));
	const split = decoded.indexOf(':');
	return [decoded.slice(0, split), decoded.slice(split + 1)];
}
