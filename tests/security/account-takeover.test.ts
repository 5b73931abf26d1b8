// Pre-account hijacking: mallory registers alice's address before alice does, never proves it, and
// tries to keep a way in (a provider link, a session) that survives alice claiming the address.
// Every path where a provider identity meets an existing account is driven through the real routes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { count, eq } from 'drizzle-orm';
import { knownDevices, oauthAccounts, sessions, users } from '$shared/db/schema';
import { actions as forgotActions } from '../../src/routes/forgot-password/+page.server';
import { actions as loginActions } from '../../src/routes/login/+page.server';
import { actions as registerActions } from '../../src/routes/register/+page.server';
import { actions as resetActions } from '../../src/routes/reset-password/+page.server';
import { load as loadSessions } from '../../src/routes/settings/sessions/+page.server';
import { actions as verifyActions } from '../../src/routes/verify-email/+page.server';
import { actions as welcomeActions } from '../../src/routes/welcome/+page.server';
import {
	PASSWORD,
	db,
	lastMailTo,
	registerPerson,
	signedInBrowser,
	tokenIn,
	userRow
} from '../support/accounts';
import {
	gitHubUser,
	googleUser,
	linkFromSettings,
	location,
	signInWith
} from '../support/oauth-flows';
import { ProviderStandIn } from '../support/oauth-provider';
import { TestBrowser } from '../support/request-event';

vi.setConfig({ testTimeout: 60_000 });

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

const browser = () => new TestBrowser(providerEnv);
async function signedIn(person: { id: string }) {
	const b = await signedInBrowser(person);
	b.env = providerEnv;
	return b;
}

const linksOf = (userId: string) =>
	db()
		.select({ provider: oauthAccounts.provider })
		.from(oauthAccounts)
		.where(eq(oauthAccounts.userId, userId));

async function sessionCount(userId: string) {
	const [row] = await db().select({ n: count() }).from(sessions).where(eq(sessions.userId, userId));
	return row!.n;
}

/** A provider link made before this fix, when settings linked without a proven address. */
async function legacyLink(userId: string, providerUserId: string) {
	await db()
		.insert(oauthAccounts)
		.values({
			provider: 'github',
			providerUserId,
			userId,
			email: null,
			createdAt: Date.now() - 1000
		});
}

async function resetByEmail(email: string, newPassword: string, from = browser()) {
	await from.call(forgotActions.request!, { path: '/forgot-password', form: { email } });
	const token = tokenIn((await lastMailTo(email))!.bodyText);
	return from.call(resetActions.reset!, {
		path: '/reset-password?/reset',
		form: { token, password: newPassword }
	});
}

describe('linking a provider', () => {
	it('is refused from settings while the account’s email was never proven', async () => {
		const mallory = await registerPerson('mallory');
		provider.signedIn.github = gitHubUser('mallory', {
			email: `mallory.own.${Date.now()}@example.test`,
			verified: true
		});
		const outcome = await linkFromSettings(provider, await signedIn(mallory), 'github');
		expect(location(outcome)).toBe('/settings/account?notice=unverified-account&provider=github');
		expect(await linksOf(mallory.id)).toEqual([]);
	});

	it('works from settings once the email is proven', async () => {
		const alice = await registerPerson('alice', { verified: true });
		provider.signedIn.github = gitHubUser('alice', null);
		const outcome = await linkFromSettings(provider, await signedIn(alice), 'github');
		expect(location(outcome)).toBe('/settings/account?notice=linked&provider=github');
		expect(await linksOf(alice.id)).toEqual([{ provider: 'github' }]);
	});

	it('by signing in with a provider whose verified email matches a verified account joins it', async () => {
		const alice = await registerPerson('alice', { verified: true });
		provider.signedIn.google = googleUser('alice', alice.email);
		const b = browser();
		expect(location(await signInWith(provider, b, 'google'))).toBe('/');
		expect(await linksOf(alice.id)).toEqual([{ provider: 'google' }]);
	});

	it('by signing in with a provider whose email matches an unproven account is refused', async () => {
		const squatter = await registerPerson('mallory');
		provider.signedIn.google = googleUser('alice', squatter.email);
		const b = browser();
		expect(location(await signInWith(provider, b, 'google'))).toBe(
			'/login?notice=unverified-collision&provider=google'
		);
		expect(b.jar.get('parley_session')).toBeUndefined();
		expect(await linksOf(squatter.id)).toEqual([]);
	});

	it('by creating an account from a provider is refused when the address was registered meanwhile', async () => {
		const email = `late.${Date.now()}@example.test`;
		provider.signedIn.github = gitHubUser('alice', { email, verified: true });
		const b = browser();
		expect(location(await signInWith(provider, b, 'github'))).toBe('/welcome');
		// Between the callback and the welcome form, mallory registers the address.
		const mallory = await registerPerson('mallory');
		await db().update(users).set({ email }).where(eq(users.id, mallory.id));

		const created = await b.call(welcomeActions.create!, {
			path: '/welcome?/create',
			form: { username: `alice_${Date.now()}`, displayName: 'Alice' }
		});
		expect(location(created)).toBe('/login?notice=unverified-collision&provider=github');
		expect(b.jar.get('parley_session')).toBeUndefined();
		expect(await linksOf(mallory.id)).toEqual([]);
	});
});

describe('the first proof of an address', () => {
	it('by a reset link ends every earlier session and provider link of the account', async () => {
		const alice = await registerPerson('alice');
		await legacyLink(alice.id, `legacy-${alice.id}`);
		const mallorySession = await signedIn(alice);
		await signedIn(alice);

		const reset = await resetByEmail(alice.email, 'alice takes her address back');
		expect(location(reset)).toBe('/login?notice=password-reset');
		expect(await linksOf(alice.id)).toEqual([]);
		expect(await sessionCount(alice.id)).toBe(0);
		expect(await mallorySession.call(loadSessions, { path: '/settings/sessions' })).toMatchObject({
			kind: 'redirect',
			location: '/login?next=%2Fsettings%2Fsessions'
		});
	});

	it('by a reset link opened in a session of the account keeps that session only', async () => {
		const alice = await registerPerson('alice');
		await legacyLink(alice.id, `legacy-${alice.id}`);
		const laptop = await signedIn(alice);
		const stale = await signedIn(alice);
		expect(location(await resetByEmail(alice.email, 'alice resets while signed in', laptop))).toBe(
			'/'
		);
		expect(await linksOf(alice.id)).toEqual([]);
		expect(await sessionCount(alice.id)).toBe(1);
		expect((await laptop.call(loadSessions, { path: '/settings/sessions' })).kind).toBe('data');
		expect((await stale.call(loadSessions, { path: '/settings/sessions' })).kind).toBe('redirect');
	});

	it('by a verification link ends earlier links and other sessions, and keeps the confirming one', async () => {
		const alice = await registerPerson('alice');
		await legacyLink(alice.id, `legacy-${alice.id}`);
		const phone = await signedIn(alice);
		const elsewhere = await signedIn(alice);
		await phone.call(verifyActions.resend!, { path: '/verify-email?/resend', form: {} });
		const token = tokenIn((await lastMailTo(alice.email))!.bodyText);

		const confirmed = await phone.call(verifyActions.confirm!, {
			path: '/verify-email?/confirm',
			form: { token }
		});
		expect(confirmed).toMatchObject({ kind: 'data', data: { confirmed: { email: alice.email } } });
		expect((await userRow(alice.id)).emailVerifiedAt).not.toBeNull();
		expect(await linksOf(alice.id)).toEqual([]);
		expect(await sessionCount(alice.id)).toBe(1);
		expect((await phone.call(loadSessions, { path: '/settings/sessions' })).kind).toBe('data');
		expect((await elsewhere.call(loadSessions, { path: '/settings/sessions' })).kind).toBe(
			'redirect'
		);
	});

	it('does not happen twice: a later reset of a proven account keeps its provider links', async () => {
		const alice = await registerPerson('alice', { verified: true });
		provider.signedIn.github = gitHubUser('alice', null);
		await linkFromSettings(provider, await signedIn(alice), 'github');
		await resetByEmail(alice.email, 'alice forgot it once more');
		expect(await linksOf(alice.id)).toEqual([{ provider: 'github' }]);
	});
});

describe('the whole takeover story', () => {
	it('mallory registers alice’s address: no account is made, and only alice’s inbox can make one', async () => {
		const email = `alice.${Date.now()}@example.test`;
		const malloryBrowser = browser();
		const registered = await malloryBrowser.call(registerActions.default!, {
			path: '/register',
			form: {
				email,
				username: `alice_${Date.now()}`,
				displayName: 'Alice',
				password: 'mallory knows this passphrase'
			}
		});
		expect(registered).toEqual({ kind: 'data', data: { sentTo: email } });
		expect(malloryBrowser.jar.cookies.size).toBe(0);
		expect(await db().select().from(users).where(eq(users.email, email))).toEqual([]);
		expect((await lastMailTo(email))?.subject).toBe('Finish creating your Parley account');
	});

	it('mallory holds an unproven account made before sign-ups needed the link, and links her GitHub; after alice resets, mallory has no way in', async () => {
		const squatted = await registerPerson('alice');
		const email = squatted.email;
		// She signs in through the form, so her browser becomes one the account knows.
		const malloryBrowser = browser();
		expect(
			location(
				await malloryBrowser.call(loginActions.default!, {
					path: '/login',
					form: { login: email, password: PASSWORD }
				})
			)
		).toBe('/');
		expect(
			await db().select().from(knownDevices).where(eq(knownDevices.userId, squatted.id))
		).toHaveLength(1);
		const [account] = await db().select().from(users).where(eq(users.email, email));

		provider.signedIn.github = gitHubUser('mallory', {
			email: `mallory.${Date.now()}@example.test`,
			verified: true
		});
		await linkFromSettings(provider, malloryBrowser, 'github');

		// Alice finds her address taken and takes the account back by email.
		expect(location(await resetByEmail(email, 'alice owns this address'))).toBe(
			'/login?notice=password-reset'
		);

		// Mallory's old session is gone, and her GitHub does not lead into alice's account.
		expect(await malloryBrowser.call(loadSessions, { path: '/settings/sessions' })).toMatchObject({
			kind: 'redirect',
			location: '/login?next=%2Fsettings%2Fsessions'
		});
		const viaGitHub = browser();
		await signInWith(provider, viaGitHub, 'github');
		expect(await linksOf(account!.id)).toEqual([]);
		expect(await sessionCount(account!.id)).toBe(0);
		// Nor is her browser still one the account knows, to slip past a lockout with.
		expect(
			await db().select().from(knownDevices).where(eq(knownDevices.userId, account!.id))
		).toEqual([]);
	});
});
