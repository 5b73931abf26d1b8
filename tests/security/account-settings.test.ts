// The settings forms that change how an account is reached. Mallory has alice's unlocked browser
// for a while (a borrowed laptop): she must not get unlimited guesses at the current password, and
// an account without a password must prove itself at its provider again before its email moves
// or it gets a password.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { oauthAccounts, sessions } from '$shared/db/schema';
import { PROVIDER_REAUTH_WINDOW_MS } from '$lib/server/accounts/accounts';
import { hashSecret } from '$lib/server/ids';
import { RateLimits } from '$lib/server/rate-limit';
import { GET as reauthenticate } from '../../src/routes/auth/[provider]/reauthenticate/+server';
import { actions as loginActions } from '../../src/routes/login/+page.server';
import { actions as accountActions } from '../../src/routes/settings/account/+page.server';
import { PASSWORD, db, registerPerson, signedInBrowser, userRow } from '../support/accounts';
import { gitHubUser, location, returnTo, signInWith } from '../support/oauth-flows';
import { ProviderStandIn } from '../support/oauth-provider';
import { TestBrowser, type Outcome } from '../support/request-event';

vi.setConfig({ testTimeout: 120_000 });

let provider: ProviderStandIn;
let providerEnv: Record<string, unknown>;

beforeEach(() => {
	provider = new ProviderStandIn();
	vi.stubGlobal('fetch', provider.fetch);
	providerEnv = { ...env, APP_ENV: 'development', ...provider.env };
});
afterEach(() => {
	vi.unstubAllGlobals();
});

const { limit } = RateLimits.loginPerAccount;

function status(outcome: Outcome) {
	return outcome.kind === 'failure' ? outcome.status : outcome.kind;
}

const changePassword = (browser: TestBrowser, currentPassword: string) =>
	browser.call(accountActions.changePassword!, {
		path: '/settings/account?/changePassword',
		form: { currentPassword, newPassword: 'mallory wants this one now' }
	});
const changeEmail = (browser: TestBrowser, currentPassword: string, newEmail?: string) =>
	browser.call(accountActions.changeEmail!, {
		path: '/settings/account?/changeEmail',
		form: { newEmail: newEmail ?? `mallory.${Date.now()}@example.test`, currentPassword }
	});
const deleteAccount = (browser: TestBrowser, confirm: string) =>
	browser.call(accountActions.delete!, { path: '/settings/account?/delete', form: { confirm } });
const setPassword = (browser: TestBrowser) =>
	browser.call(accountActions.setPassword!, {
		path: '/settings/account?/setPassword',
		form: { newPassword: 'a first passphrase of mine' }
	});

describe('the current-password checks in settings', () => {
	it('answer 429 after ten wrong guesses at changing the password, even to the right one', async () => {
		const alice = await registerPerson('alice');
		const borrowed = await signedInBrowser(alice);
		const before = (await userRow(alice.id)).passwordHash;
		const statuses = [];
		for (let i = 0; i < 40; i++)
			statuses.push(status(await changePassword(borrowed, `guess ${i}`)));
		expect(statuses).toEqual([...Array(limit).fill(400), ...Array(40 - limit).fill(429)]);
		expect(status(await changePassword(borrowed, PASSWORD))).toBe(429);
		expect(Number(borrowed.responseHeaders['retry-after'])).toBeGreaterThan(0);
		expect((await userRow(alice.id)).passwordHash).toBe(before);
	});

	it('share one counter with the login form and each other: email change, password change, deletion', async () => {
		const alice = await registerPerson('alice');
		const borrowed = await signedInBrowser(alice);
		for (let i = 0; i < 4; i++) {
			await new TestBrowser().call(loginActions.default!, {
				path: '/login',
				form: { login: alice.email, password: `elsewhere ${i}` }
			});
		}
		for (let i = 0; i < 3; i++) expect(status(await changeEmail(borrowed, `guess ${i}`))).toBe(400);
		for (let i = 0; i < 3; i++) {
			expect(status(await changePassword(borrowed, `guess ${i}`))).toBe(400);
		}
		expect(status(await deleteAccount(borrowed, PASSWORD))).toBe(429);
		expect(status(await changeEmail(borrowed, PASSWORD))).toBe(429);
		expect((await userRow(alice.id)).deletedAt).toBeNull();
	});
});

describe('an account without a password', () => {
	/** Yuki signed up through GitHub: her browser's session came from a GitHub sign-in. */
	async function yukiThroughGitHub() {
		const yuki = await registerPerson('yuki', { verified: true, password: false });
		const identity = gitHubUser('yuki', { email: yuki.email, verified: true });
		await db()
			.insert(oauthAccounts)
			.values({
				provider: 'github',
				providerUserId: String(identity.id),
				userId: yuki.id,
				email: yuki.email,
				createdAt: Date.now()
			});
		provider.signedIn.github = identity;
		const browser = new TestBrowser(providerEnv);
		expect(location(await signInWith(provider, browser, 'github'))).toBe('/');
		return { yuki, browser };
	}

	async function ageProviderSignIn(browser: TestBrowser) {
		const token = browser.jar.get('parley_session')!;
		await db()
			.update(sessions)
			.set({ providerAuthAt: Date.now() - PROVIDER_REAUTH_WINDOW_MS - 1000 })
			.where(eq(sessions.id, hashSecret(token)));
	}

	it('changes its email or sets a password right after signing in with its provider', async () => {
		const { yuki, browser } = await yukiThroughGitHub();
		expect(await changeEmail(browser, '')).toMatchObject({ kind: 'data' });
		expect(await setPassword(browser)).toMatchObject({ kind: 'data' });
		expect((await userRow(yuki.id)).passwordHash).not.toBeNull();
	});

	it('is asked to sign in with its provider again once that sign-in is old, then may go on', async () => {
		const { yuki, browser } = await yukiThroughGitHub();
		await ageProviderSignIn(browser);

		for (const refused of [await changeEmail(browser, ''), await setPassword(browser)]) {
			expect(refused).toMatchObject({
				kind: 'failure',
				status: 403,
				data: { reauthenticate: [{ provider: 'github', href: '/auth/github/reauthenticate' }] }
			});
		}
		expect((await userRow(yuki.id)).passwordHash).toBeNull();

		// The link leads through GitHub and back to settings.
		const start = await browser.call(reauthenticate, {
			path: '/auth/github/reauthenticate',
			params: { provider: 'github' }
		});
		const back = await returnTo(browser, await provider.consent(location(start)), 'github');
		expect(location(back)).toBe('/settings/account?notice=reauthenticated&provider=github');
		expect(await setPassword(browser)).toMatchObject({ kind: 'data' });
		expect((await userRow(yuki.id)).passwordHash).not.toBeNull();
	});

	it('a session signed in some other way is asked too', async () => {
		const yuki = await registerPerson('yuki', { verified: true, password: false });
		const browser = await signedInBrowser(yuki);
		browser.env = providerEnv;
		expect(await setPassword(browser)).toMatchObject({ kind: 'failure', status: 403 });
	});

	it('cannot re-authenticate with a provider account that is not linked to it', async () => {
		const { browser } = await yukiThroughGitHub();
		await ageProviderSignIn(browser);
		provider.signedIn.github = gitHubUser('mallory', null);
		const start = await browser.call(reauthenticate, {
			path: '/auth/github/reauthenticate',
			params: { provider: 'github' }
		});
		const back = await returnTo(browser, await provider.consent(location(start)), 'github');
		expect(location(back)).toBe('/settings/account?notice=reauth-mismatch&provider=github');
		expect(await setPassword(browser)).toMatchObject({ kind: 'failure', status: 403 });
	});
});
