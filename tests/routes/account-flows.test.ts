import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { count, eq } from 'drizzle-orm';
import { mailOutbox, sessions, users } from '$shared/db/schema';
import { actions as forgotActions } from '../../src/routes/forgot-password/+page.server';
import { actions as loginActions } from '../../src/routes/login/+page.server';
import { actions as registerActions } from '../../src/routes/register/+page.server';
import { actions as finishActions } from '../../src/routes/register/finish/+page.server';
import { actions as resetActions } from '../../src/routes/reset-password/+page.server';
import { actions as accountActions } from '../../src/routes/settings/account/+page.server';
import {
	actions as sessionActions,
	load as loadSessions
} from '../../src/routes/settings/sessions/+page.server';
import { actions as verifyActions } from '../../src/routes/verify-email/+page.server';
import {
	PASSWORD,
	db,
	lastMailTo,
	registerPerson,
	signedInBrowser,
	tokenIn,
	userRow
} from '../support/accounts';
import { createUserFromProvider } from '$lib/server/auth/oauth-accounts';
import { actions as welcomeActions } from '../../src/routes/welcome/+page.server';
import { gitHubUser, signInWith } from '../support/oauth-flows';
import { ProviderStandIn } from '../support/oauth-provider';
import { TestBrowser } from '../support/request-event';

// Password hashing is deliberately slow, and these tests check passwords many times.
vi.setConfig({ testTimeout: 60_000 });

async function logIn(login: string, password = PASSWORD, browser = new TestBrowser()) {
	const outcome = await browser.call(loginActions.default!, {
		path: '/login',
		form: { login, password }
	});
	return { browser, outcome };
}

async function sessionCount(userId: string) {
	const [row] = await db().select({ n: count() }).from(sessions).where(eq(sessions.userId, userId));
	return row!.n;
}

describe('registration and email verification', () => {
	it('a new account is made only from the mailed link, which proves its address and signs in', async () => {
		const browser = new TestBrowser();
		const email = `dora_${Date.now()}@Example.test`;
		const registered = await browser.call(registerActions.default!, {
			path: '/register',
			form: {
				email,
				username: `dora_${Date.now()}`,
				displayName: 'Dora',
				password: 'dora explores with a long passphrase'
			}
		});
		expect(registered).toEqual({ kind: 'data', data: { sentTo: email } });
		expect(browser.jar.get('parley_session')).toBeUndefined();

		const mail = await lastMailTo(email);
		expect(mail?.subject).toBe('Finish creating your Parley account');
		expect(mail?.bodyText).toContain('https://parley.test/register/finish#token=');
		const token = tokenIn(mail!.bodyText);

		const finished = await browser.call(finishActions.finish!, {
			path: '/register/finish?/finish',
			form: { token }
		});
		expect(finished).toEqual({ kind: 'redirect', status: 303, location: '/' });
		expect(browser.jar.get('parley_session')).toBeTruthy();
		const [account] = await db().select().from(users).where(eq(users.email, email.toLowerCase()));
		expect(account!.emailVerifiedAt).not.toBeNull();
		expect((await logIn(email, 'dora explores with a long passphrase')).outcome).toMatchObject({
			kind: 'redirect',
			location: '/'
		});
		// A stranger who later finds the link can do nothing with it.
		const again = await new TestBrowser().call(finishActions.finish!, {
			path: '/register/finish?/finish',
			form: { token }
		});
		expect(again).toMatchObject({ kind: 'failure', status: 400 });
	});

	it('an old verification link does not confirm an address the account has moved to', async () => {
		const erin = await registerPerson('erin');
		const browser = await signedInBrowser(erin);
		await browser.call(verifyActions.resend!, { path: '/verify-email?/resend', form: {} });
		const oldLink = tokenIn((await lastMailTo(erin.email))!.bodyText);

		const newEmail = `new_${erin.email}`;
		await browser.call(accountActions.changeEmail!, {
			path: '/settings/account?/changeEmail',
			form: { newEmail, currentPassword: PASSWORD }
		});
		const changeLink = tokenIn((await lastMailTo(newEmail))!.bodyText);
		await browser.call(verifyActions.confirm!, {
			path: '/verify-email?/confirm',
			form: { token: changeLink }
		});
		const outcome = await browser.call(verifyActions.confirm!, {
			path: '/verify-email?/confirm',
			form: { token: oldLink }
		});
		expect(outcome).toMatchObject({ kind: 'failure', status: 400 });
		expect((await userRow(erin.id)).email).toBe(newEmail);
	});
});

describe('changing the email address', () => {
	it('takes effect only when the new address is confirmed, and warns the old one', async () => {
		const fay = await registerPerson('fay', { verified: true });
		const browser = await signedInBrowser(fay);
		const newEmail = `fay.new.${Date.now()}@example.test`;
		const requested = await browser.call(accountActions.changeEmail!, {
			path: '/settings/account?/changeEmail',
			form: { newEmail, currentPassword: PASSWORD }
		});
		expect(requested).toMatchObject({ kind: 'data', data: { section: 'email' } });
		expect((await userRow(fay.id)).email).toBe(fay.email);
		expect((await lastMailTo(fay.email))?.subject).toBe(
			'Your Parley email address is being changed'
		);

		const token = tokenIn((await lastMailTo(newEmail))!.bodyText);
		const confirmed = await browser.call(verifyActions.confirm!, {
			path: '/verify-email?/confirm',
			form: { token }
		});
		expect(confirmed).toMatchObject({
			kind: 'data',
			data: { confirmed: { purpose: 'change_email' } }
		});
		const row = await userRow(fay.id);
		expect(row.email).toBe(newEmail);
		expect(row.emailVerifiedAt).not.toBeNull();
		expect((await logIn(newEmail)).outcome.kind).toBe('redirect');
	});

	it('is refused when another account took the address before the link was opened', async () => {
		const gus = await registerPerson('gus', { verified: true });
		const browser = await signedInBrowser(gus);
		const wanted = `wanted.${Date.now()}@example.test`;
		await browser.call(accountActions.changeEmail!, {
			path: '/settings/account?/changeEmail',
			form: { newEmail: wanted, currentPassword: PASSWORD }
		});
		const token = tokenIn((await lastMailTo(wanted))!.bodyText);
		await new TestBrowser().call(registerActions.default!, {
			path: '/register',
			form: {
				email: wanted,
				username: `quick_${Date.now()}`,
				displayName: 'Quick',
				password: 'quick hands typed a long one'
			}
		});
		await new TestBrowser().call(finishActions.finish!, {
			path: '/register/finish?/finish',
			form: { token: tokenIn((await lastMailTo(wanted))!.bodyText) }
		});
		const outcome = await browser.call(verifyActions.confirm!, {
			path: '/verify-email?/confirm',
			form: { token }
		});
		expect(outcome).toMatchObject({
			kind: 'failure',
			data: { errors: { form: 'Another account now uses that address.' } }
		});
		expect((await userRow(gus.id)).email).toBe(gus.email);
	});
});

describe('forgotten passwords', () => {
	it('get the same answer for known and unknown addresses, and only real accounts get mail', async () => {
		const hana = await registerPerson('hana');
		const unknown = `nobody.${Date.now()}@example.test`;
		const ask = (email: string) =>
			new TestBrowser().call(forgotActions.request!, { path: '/forgot-password', form: { email } });
		const known = await ask(hana.email);
		const stranger = await ask(unknown);
		expect(known).toEqual({ kind: 'data', data: { sentTo: hana.email } });
		expect(stranger).toEqual({ kind: 'data', data: { sentTo: unknown } });
		expect((await lastMailTo(hana.email))?.subject).toBe('Reset your Parley password');
		const [strangerMail] = await db()
			.select({ n: count() })
			.from(mailOutbox)
			.where(eq(mailOutbox.toAddress, unknown));
		expect(strangerMail!.n).toBe(0);
	});

	it('are reset through the link, which signs out every other session and works only once', async () => {
		const ivan = await registerPerson('ivan');
		const laptop = await signedInBrowser(ivan);
		await signedInBrowser(ivan);
		expect(await sessionCount(ivan.id)).toBe(2);

		const phone = new TestBrowser();
		await phone.call(forgotActions.request!, {
			path: '/forgot-password',
			form: { email: ivan.email }
		});
		const token = tokenIn((await lastMailTo(ivan.email))!.bodyText);
		const newPassword = 'ivan chose a brand new passphrase';
		const reset = await phone.call(resetActions.reset!, {
			path: '/reset-password?/reset',
			form: { token, password: newPassword }
		});
		expect(reset).toEqual({
			kind: 'redirect',
			status: 303,
			location: '/login?notice=password-reset'
		});
		expect(await sessionCount(ivan.id)).toBe(0);
		// The laptop's next request finds its session gone.
		const laptopNext = await laptop.call(loadSessions, { path: '/settings/sessions' });
		expect(laptopNext).toMatchObject({
			kind: 'redirect',
			location: '/login?next=%2Fsettings%2Fsessions'
		});

		expect((await logIn(ivan.username)).outcome).toMatchObject({ kind: 'failure', status: 400 });
		expect((await logIn(ivan.username, newPassword)).outcome).toMatchObject({ kind: 'redirect' });
		// Being mailed the link proved the address.
		expect((await userRow(ivan.id)).emailVerifiedAt).not.toBeNull();

		const replay = await phone.call(resetActions.reset!, {
			path: '/reset-password?/reset',
			form: { token, password: 'someone else wants in now' }
		});
		expect(replay).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { token: expect.any(String) } }
		});
	});
});

describe('changing the password', () => {
	it('needs the current password and signs out the other sessions', async () => {
		const jo = await registerPerson('jo');
		const browser = await signedInBrowser(jo);
		await signedInBrowser(jo);
		const wrong = await browser.call(accountActions.changePassword!, {
			path: '/settings/account?/changePassword',
			form: { currentPassword: 'not it at all', newPassword: 'jo picks a fresh passphrase' }
		});
		expect(wrong).toMatchObject({
			kind: 'failure',
			data: { errors: { currentPassword: 'That is not your current password.' } }
		});
		const changed = await browser.call(accountActions.changePassword!, {
			path: '/settings/account?/changePassword',
			form: { currentPassword: PASSWORD, newPassword: 'jo picks a fresh passphrase' }
		});
		expect(changed).toMatchObject({ kind: 'data', data: { section: 'password' } });
		expect(await sessionCount(jo.id)).toBe(1);
		expect((await logIn(jo.username, 'jo picks a fresh passphrase')).outcome.kind).toBe('redirect');
	});
});

describe('sessions', () => {
	it('are listed with browser, system and country, the current one marked', async () => {
		const kim = await registerPerson('kim');
		const browser = await signedInBrowser(kim);
		// The phone signs in through the form, which records its browser and country.
		const phone = new TestBrowser();
		await phone.call(loginActions.default!, {
			path: '/login',
			form: { login: kim.username, password: PASSWORD },
			headers: {
				'user-agent':
					'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'
			},
			cf: { country: 'NZ' }
		});
		const listed = await browser.call(loadSessions, { path: '/settings/sessions' });
		expect(listed.kind).toBe('data');
		const rows =
			listed.kind === 'data'
				? (listed.data as { sessions: Record<string, unknown>[] }).sessions
				: [];
		expect(rows).toHaveLength(2);
		expect(rows).toContainEqual(
			expect.objectContaining({ browser: 'Safari 18', os: 'iOS', country: 'NZ', current: false })
		);
		expect(rows).toContainEqual(
			expect.objectContaining({ browser: 'Chrome 131', os: 'Linux', current: true })
		);
	});

	it('can be revoked one by one, all others at once, or everywhere', async () => {
		const lee = await registerPerson('lee');
		const browser = await signedInBrowser(lee);
		const tablet = await signedInBrowser(lee);
		await signedInBrowser(lee);
		const listed = await browser.call(loadSessions, { path: '/settings/sessions' });
		const rows =
			listed.kind === 'data'
				? (listed.data as { sessions: { id: string; current: boolean }[] }).sessions
				: [];
		const tabletSession = await tablet.call(loadSessions, { path: '/settings/sessions' });
		const tabletId =
			tabletSession.kind === 'data'
				? (tabletSession.data as { sessions: { id: string; current: boolean }[] }).sessions.find(
						(s) => s.current
					)!.id
				: '';
		expect(rows.map((r) => r.id)).toContain(tabletId);

		await browser.call(sessionActions.revoke!, {
			path: '/settings/sessions?/revoke',
			form: { sessionId: tabletId }
		});
		expect(await tablet.call(loadSessions, { path: '/settings/sessions' })).toMatchObject({
			kind: 'redirect',
			location: '/login?next=%2Fsettings%2Fsessions'
		});
		expect(await sessionCount(lee.id)).toBe(2);

		await browser.call(sessionActions.revokeOthers!, {
			path: '/settings/sessions?/revokeOthers',
			form: {}
		});
		expect(await sessionCount(lee.id)).toBe(1);

		const everywhere = await browser.call(sessionActions.signOutEverywhere!, {
			path: '/settings/sessions?/signOutEverywhere',
			form: {}
		});
		expect(everywhere).toEqual({
			kind: 'redirect',
			status: 303,
			location: '/login?notice=signed-out-everywhere'
		});
		expect(await sessionCount(lee.id)).toBe(0);
		expect(browser.jar.get('parley_session')).toBeUndefined();
	});

	it("cannot be used to end someone else's session", async () => {
		const max = await registerPerson('max');
		const nia = await registerPerson('nia');
		const maxBrowser = await signedInBrowser(max);
		const niaBrowser = await signedInBrowser(nia);
		const niaListed = await niaBrowser.call(loadSessions, { path: '/settings/sessions' });
		const niaId =
			niaListed.kind === 'data'
				? (niaListed.data as { sessions: { id: string }[] }).sessions[0]!.id
				: '';
		const outcome = await maxBrowser.call(sessionActions.revoke!, {
			path: '/settings/sessions?/revoke',
			form: { sessionId: niaId }
		});
		expect(outcome).toMatchObject({ kind: 'failure', status: 400 });
		expect(await sessionCount(nia.id)).toBe(1);
	});
});

describe('signing up through a provider', () => {
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

	it('lets the new account set its first password without going back to the provider', async () => {
		const email = `olga.${Date.now()}@example.test`;
		provider.signedIn.github = gitHubUser('olga', { email, verified: true });
		const browser = new TestBrowser(providerEnv);
		await signInWith(provider, browser, 'github');
		const created = await browser.call(welcomeActions.create!, {
			path: '/welcome?/create',
			form: { username: `olga_${Date.now()}`, displayName: 'Olga' }
		});
		expect(created).toEqual({ kind: 'redirect', status: 303, location: '/' });

		const set = await browser.call(accountActions.setPassword!, {
			path: '/settings/account?/setPassword',
			form: { newPassword: 'olga picks her first passphrase' }
		});
		expect(set).toMatchObject({ kind: 'data', data: { section: 'password' } });
		expect((await logIn(email, 'olga picks her first passphrase')).outcome).toMatchObject({
			kind: 'redirect'
		});
	});

	it('tells the proven owner of an address that they already have an account, as a next step', async () => {
		const pia = await registerPerson('pia', { verified: true });
		const created = await createUserFromProvider(
			db(),
			{
				provider: 'github',
				providerUserId: String(Date.now()),
				email: pia.email,
				username: 'pia',
				displayName: 'Pia'
			},
			{ username: `pia_gh_${Date.now()}`, displayName: 'Pia' }
		);
		expect(created).toEqual({
			ok: false,
			field: 'email',
			message:
				'You already have an account with this address: log in with your password, then link GitHub in Settings.'
		});
	});
});
