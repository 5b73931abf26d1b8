import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { oauthAccounts, users } from '$shared/db/schema';
import { GET as startSignIn } from '../../src/routes/auth/[provider]/+server';
import { GET as callback } from '../../src/routes/auth/[provider]/callback/+server';
import { GET as reauthenticate } from '../../src/routes/auth/[provider]/reauthenticate/+server';
import { actions as accountActions } from '../../src/routes/settings/account/+page.server';
import {
	actions as welcomeActions,
	load as welcomeLoad
} from '../../src/routes/welcome/+page.server';
import { db, registerPerson, signedInBrowser, userRow } from '../support/accounts';
import {
	ProviderStandIn,
	type GitHubIdentity,
	type GoogleIdentity
} from '../support/oauth-provider';
import { TestBrowser, type Outcome } from '../support/request-event';

let provider: ProviderStandIn;
let browserEnv: Record<string, unknown>;

beforeEach(() => {
	provider = new ProviderStandIn();
	vi.stubGlobal('fetch', provider.fetch);
	browserEnv = { ...env, APP_ENV: 'development', ...provider.env };
});
afterEach(() => {
	vi.unstubAllGlobals();
});

let ids = 0;
function gitHubUser(
	name: string,
	email: { email: string; verified: boolean } | null
): GitHubIdentity {
	const id = 1000 + ++ids;
	return {
		id,
		login: `${name}-gh${id}`,
		name: name[0]!.toUpperCase() + name.slice(1),
		emails: email ? [{ ...email, primary: true }] : []
	};
}
function googleUser(name: string, email: string, verified = true): GoogleIdentity {
	return { sub: `g-${++ids}`, email, email_verified: verified, name };
}

function location(outcome: Outcome): string {
	if (outcome.kind !== 'redirect')
		throw new Error(`expected a redirect, got ${JSON.stringify(outcome)}`);
	return outcome.location;
}

/** The browser leaves for the provider, the person consents there, and the provider sends it back. */
async function roundTrip(browser: TestBrowser, name: 'github' | 'google'): Promise<URL> {
	const start = await browser.call(startSignIn, {
		path: `/auth/${name}`,
		params: { provider: name }
	});
	return provider.consent(location(start));
}

function returnTo(browser: TestBrowser, url: URL, name: 'github' | 'google') {
	return browser.call(callback, { path: url.pathname + url.search, params: { provider: name } });
}

describe('signing in with a provider', () => {
	it('refuses a callback whose state does not match this browser, and signs nobody in', async () => {
		provider.signedIn.github = gitHubUser('mallory', {
			email: `mallory${ids}@example.test`,
			verified: true
		});
		const browser = new TestBrowser(browserEnv);
		const back = await roundTrip(browser, 'github');
		back.searchParams.set('state', 'forged-state-value');
		const forged = await returnTo(browser, back, 'github');
		expect(forged).toMatchObject({ kind: 'error', status: 400 });
		expect(browser.jar.get('parley_session')).toBeUndefined();

		// A code sent to someone else's browser (no state cookie at all) is refused the same way.
		const victim = new TestBrowser(browserEnv);
		const stolen = await roundTrip(new TestBrowser(browserEnv), 'github');
		expect(await returnTo(victim, stolen, 'github')).toMatchObject({ kind: 'error', status: 400 });
		expect(victim.jar.get('parley_session')).toBeUndefined();
	});

	it('on a first GitHub sign-in, asks for a username, then creates a verified account linked to GitHub', async () => {
		const email = `olga${Date.now()}@example.test`;
		provider.signedIn.github = gitHubUser('olga', { email, verified: true });
		const browser = new TestBrowser(browserEnv);
		const back = await roundTrip(browser, 'github');
		expect(location(await returnTo(browser, back, 'github'))).toBe('/welcome');
		expect(browser.jar.get('parley_session')).toBeUndefined();

		const welcome = await browser.call(welcomeLoad, { path: '/welcome' });
		expect(welcome).toMatchObject({
			kind: 'data',
			data: { provider: 'GitHub', email, suggestion: { displayName: 'Olga' } }
		});
		const username = `olga_${Date.now()}`;
		const created = await browser.call(welcomeActions.create!, {
			path: '/welcome?/create',
			form: { username, displayName: 'Olga O.' }
		});
		expect(created).toEqual({ kind: 'redirect', status: 303, location: '/' });
		expect(browser.jar.get('parley_session')).toBeTruthy();

		const [user] = await db().select().from(users).where(eq(users.email, email));
		expect(user).toMatchObject({ username, displayName: 'Olga O.', passwordHash: null });
		expect(user!.emailVerifiedAt).not.toBeNull();
		const links = await db().select().from(oauthAccounts).where(eq(oauthAccounts.userId, user!.id));
		expect(links).toEqual([
			expect.objectContaining({
				provider: 'github',
				providerUserId: String(provider.signedIn.github.id)
			})
		]);

		// Next time, the same GitHub account goes straight in.
		const later = new TestBrowser(browserEnv);
		expect(location(await returnTo(later, await roundTrip(later, 'github'), 'github'))).toBe('/');
		expect(later.jar.get('parley_session')).toBeTruthy();
	});

	it('uses PKCE with Google: the token request proves the verifier behind the challenge', async () => {
		provider.signedIn.google = googleUser('pia', `pia${Date.now()}@example.test`);
		const browser = new TestBrowser(browserEnv);
		const start = await browser.call(startSignIn, {
			path: '/auth/google',
			params: { provider: 'google' }
		});
		const authorization = new URL(location(start));
		expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
		expect(authorization.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
		const back = await provider.consent(authorization.toString());
		expect(location(await returnTo(browser, back, 'google'))).toBe('/welcome');
		const tokenRequest = provider.requests.find((r) => r.url.endsWith('/token'));
		expect(new URLSearchParams(tokenRequest!.body).get('code_verifier')).toBeTruthy();
	});

	it("links to an existing account whose verified email matches the provider's verified email", async () => {
		const quinn = await registerPerson('quinn', { verified: true });
		provider.signedIn.google = googleUser('quinn', quinn.email.toUpperCase());
		const browser = new TestBrowser(browserEnv);
		expect(location(await returnTo(browser, await roundTrip(browser, 'google'), 'google'))).toBe(
			'/'
		);
		const links = await db().select().from(oauthAccounts).where(eq(oauthAccounts.userId, quinn.id));
		expect(links.map((l) => l.provider)).toEqual(['google']);
		expect(browser.jar.get('parley_session')).toBeTruthy();
	});

	it('does not hand over an account whose matching email was never verified', async () => {
		// Someone registered Rosa's address first, with a password of their own, and never verified it.
		const squatter = await registerPerson('rosa');
		provider.signedIn.github = gitHubUser('rosa', { email: squatter.email, verified: true });
		const browser = new TestBrowser(browserEnv);
		const outcome = await returnTo(browser, await roundTrip(browser, 'github'), 'github');
		expect(location(outcome)).toBe('/login?notice=unverified-collision&provider=github');
		expect(browser.jar.get('parley_session')).toBeUndefined();
		expect(
			await db().select().from(oauthAccounts).where(eq(oauthAccounts.userId, squatter.id))
		).toEqual([]);
		expect((await userRow(squatter.id)).email).toBe(squatter.email);
	});

	it('refuses a provider account without a verified email', async () => {
		provider.signedIn.github = gitHubUser('sam', {
			email: `sam${Date.now()}@example.test`,
			verified: false
		});
		const browser = new TestBrowser(browserEnv);
		const outcome = await returnTo(browser, await roundTrip(browser, 'github'), 'github');
		expect(location(outcome)).toBe('/login?notice=no-verified-email&provider=github');
		expect(browser.jar.get('parley_session')).toBeUndefined();
	});

	it('sends the person back to log in when the provider refuses the code', async () => {
		provider.signedIn.github = gitHubUser('tess', {
			email: `tess${Date.now()}@example.test`,
			verified: true
		});
		const browser = new TestBrowser(browserEnv);
		const back = await roundTrip(browser, 'github');
		back.searchParams.set('code', 'a-code-the-provider-never-issued');
		expect(location(await returnTo(browser, back, 'github'))).toBe(
			'/login?notice=failed&provider=github'
		);
		expect(browser.jar.get('parley_session')).toBeUndefined();
	});

	it('cannot replay a callback: the state is spent on first use', async () => {
		provider.signedIn.github = gitHubUser('uma', {
			email: `uma${Date.now()}@example.test`,
			verified: true
		});
		const browser = new TestBrowser(browserEnv);
		const back = await roundTrip(browser, 'github');
		await returnTo(browser, back, 'github');
		expect(await returnTo(browser, back, 'github')).toMatchObject({ kind: 'error', status: 400 });
	});
});

describe('linking providers from settings', () => {
	async function link(browser: TestBrowser, name: 'github' | 'google') {
		const start = await browser.call(accountActions.link!, {
			path: '/settings/account?/link',
			form: { provider: name }
		});
		const back = await provider.consent(location(start));
		return returnTo(browser, back, name);
	}
	const unlink = (browser: TestBrowser, name: string) =>
		browser.call(accountActions.unlink!, {
			path: '/settings/account?/unlink',
			form: { provider: name }
		});

	it('links a provider to the signed-in account, whatever its email', async () => {
		const vera = await registerPerson('vera', { verified: true });
		provider.signedIn.github = gitHubUser('vera', {
			email: 'someone.else@example.test',
			verified: true
		});
		const browser = await signedInBrowser(vera);
		browser.env = browserEnv;
		expect(location(await link(browser, 'github'))).toBe(
			'/settings/account?notice=linked&provider=github'
		);
		const links = await db().select().from(oauthAccounts).where(eq(oauthAccounts.userId, vera.id));
		expect(links.map((l) => l.provider)).toEqual(['github']);
	});

	it("refuses to link a provider account that belongs to someone else's Parley account", async () => {
		const [walt, xena] = [
			await registerPerson('walt', { verified: true }),
			await registerPerson('xena', { verified: true })
		];
		provider.signedIn.github = gitHubUser('walt', { email: walt.email, verified: true });
		const waltBrowser = await signedInBrowser(walt);
		waltBrowser.env = browserEnv;
		await link(waltBrowser, 'github');
		const xenaBrowser = await signedInBrowser(xena);
		xenaBrowser.env = browserEnv;
		expect(location(await link(xenaBrowser, 'github'))).toBe(
			'/settings/account?notice=linked-elsewhere&provider=github'
		);
		expect(
			await db().select().from(oauthAccounts).where(eq(oauthAccounts.userId, xena.id))
		).toEqual([]);
	});

	it('unlinks only while another way to sign in remains', async () => {
		// Yuki signed up through GitHub, so she has no password.
		const yuki = await registerPerson('yuki', { verified: true, password: false });
		provider.signedIn.github = gitHubUser('yuki', { email: yuki.email, verified: true });
		provider.signedIn.google = googleUser('yuki', yuki.email);
		const browser = await signedInBrowser(yuki);
		browser.env = browserEnv;
		await link(browser, 'github');

		const lastOne = await unlink(browser, 'github');
		expect(lastOne).toMatchObject({ kind: 'failure', status: 400, data: { section: 'providers' } });
		const linked = () =>
			db()
				.select({ provider: oauthAccounts.provider })
				.from(oauthAccounts)
				.where(eq(oauthAccounts.userId, yuki.id));
		expect(await linked()).toEqual([{ provider: 'github' }]);

		await link(browser, 'google');
		expect(location(await unlink(browser, 'github'))).toBe(
			'/settings/account?notice=unlinked&provider=github'
		);
		expect(await linked()).toEqual([{ provider: 'google' }]);

		// With a password set, the last provider can go too. Setting a first password takes a
		// fresh sign-in with a linked provider.
		const again = await browser.call(reauthenticate, {
			path: '/auth/google/reauthenticate',
			params: { provider: 'google' }
		});
		await returnTo(browser, await provider.consent(location(again)), 'google');
		await browser.call(accountActions.setPassword!, {
			path: '/settings/account?/setPassword',
			form: { newPassword: 'yuki finally set a passphrase' }
		});
		expect((await unlink(browser, 'google')).kind).toBe('redirect');
		expect(await linked()).toEqual([]);
	}, 60_000);

	it('rejects an unknown provider name', async () => {
		const zoe = await registerPerson('zoe');
		const browser = await signedInBrowser(zoe);
		browser.env = browserEnv;
		expect(await unlink(browser, 'myspace')).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { provider: 'Choose a provider.' } }
		});
		expect(
			await db()
				.select()
				.from(oauthAccounts)
				.where(and(eq(oauthAccounts.userId, zoe.id)))
		).toEqual([]);
	});
});
