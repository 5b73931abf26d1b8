// Bad input on every account form: a 400 with the error next to the right field, the entered
// values kept (never passwords or tokens), and nothing changed.
import { describe, expect, it, vi } from 'vitest';
import { count } from 'drizzle-orm';
import { mailOutbox, users } from '$shared/db/schema';
import { actions as forgotActions } from '../../src/routes/forgot-password/+page.server';
import { actions as loginActions } from '../../src/routes/login/+page.server';
import { actions as registerActions } from '../../src/routes/register/+page.server';
import { actions as resetActions } from '../../src/routes/reset-password/+page.server';
import { actions as accountActions } from '../../src/routes/settings/account/+page.server';
import { actions as profileActions } from '../../src/routes/settings/profile/+page.server';
import { actions as sessionActions } from '../../src/routes/settings/sessions/+page.server';
import { actions as verifyActions } from '../../src/routes/verify-email/+page.server';
import { actions as welcomeActions } from '../../src/routes/welcome/+page.server';
import { PASSWORD, db, registerPerson, signedInBrowser, userRow } from '../support/accounts';
import { TestBrowser, type Outcome } from '../support/request-event';

vi.setConfig({ testTimeout: 60_000 });

function rejected(outcome: Outcome) {
	if (outcome.kind !== 'failure')
		throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
	expect(outcome.status).toBe(400);
	return outcome.data as { errors: Record<string, string>; values: Record<string, string> };
}

async function userCount() {
	const [row] = await db().select({ n: count() }).from(users);
	return row!.n;
}

describe('the registration form', () => {
	const good = () => {
		const tag = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
		return {
			email: `newbie${tag}@example.test`,
			username: `newbie_${tag}`,
			displayName: 'Newbie',
			password: 'newbie has a long enough passphrase'
		};
	};
	const register = (form: Record<string, string>) =>
		new TestBrowser().call(registerActions.default!, { path: '/register', form });

	it.each([
		['email', { email: 'not-an-email' }, 'Enter a valid email address.'],
		['email', { email: '' }, 'Enter your email address.'],
		['username', { username: 'ab' }, 'Usernames are 3 to 32 characters.'],
		['username', { username: 'x'.repeat(33) }, 'Usernames are 3 to 32 characters.'],
		['username', { username: 'has space' }, 'Use only letters, digits, "_" and ".".'],
		['username', { username: 'dash-name' }, 'Use only letters, digits, "_" and ".".'],
		['displayName', { displayName: '   ' }, 'Enter a display name.'],
		['password', { password: 'short' }, 'Use at least 10 characters.'],
		['password', { password: 'x'.repeat(257) }, 'Use at most 256 characters.'],
		[
			'password',
			{ password: 'Password123' },
			'That password is too common. Choose one that is harder to guess.'
		]
	])('refuses a bad %s (%j) and keeps what was typed', async (field, change, message) => {
		const before = await userCount();
		const form = { ...good(), ...change };
		const { errors, values } = rejected(await register(form));
		expect(errors).toEqual({ [field]: message });
		expect(values.password).toBeUndefined();
		if (field !== 'email') expect(values.email).toBe(form.email);
		expect(values.displayName).toBe(form.displayName);
		expect(await userCount()).toBe(before);
	});

	it('refuses a username that differs from a taken one only by case', async () => {
		const alice = await registerPerson('alice');
		const { errors, values } = rejected(
			await register({ ...good(), username: alice.username.toUpperCase() })
		);
		expect(errors).toEqual({ username: 'That username is taken.' });
		expect(values.username).toBe(alice.username.toUpperCase());
	});

	it('does not say that an email address is in use, whatever its case', async () => {
		const bob = await registerPerson('bob');
		const before = await userCount();
		const email = bob.email.toUpperCase();
		expect(await register({ ...good(), email })).toEqual({ kind: 'data', data: { sentTo: email } });
		expect(await userCount()).toBe(before);
	});
});

describe('the login form', () => {
	const login = (form: Record<string, string>) =>
		new TestBrowser().call(loginActions.default!, { path: '/login', form });

	it('asks for what is missing', async () => {
		expect(rejected(await login({ login: ' ', password: '' })).errors).toEqual({
			login: 'Enter your email or username.',
			password: 'Enter your password.'
		});
	});

	it('answers a wrong password and an unknown account with the same words', async () => {
		const carol = await registerPerson('carol');
		const wrong = rejected(await login({ login: carol.username, password: 'not the password' }));
		const unknown = rejected(await login({ login: `nobody_${Date.now()}`, password: PASSWORD }));
		expect(wrong.errors).toEqual(unknown.errors);
		expect(wrong.errors.form).toBe('That email or username and password do not match.');
		expect(wrong.values).toEqual({ login: carol.username });
	});
});

describe('the forgotten-password and reset forms', () => {
	it('refuse an invalid address and send nothing', async () => {
		const [before] = await db().select({ n: count() }).from(mailOutbox);
		const outcome = await new TestBrowser().call(forgotActions.request!, {
			path: '/forgot-password',
			form: { email: 'nope' }
		});
		expect(rejected(outcome)).toEqual({
			errors: { email: 'Enter a valid email address.' },
			values: { email: 'nope' }
		});
		const [after] = await db().select({ n: count() }).from(mailOutbox);
		expect(after!.n).toBe(before!.n);
	});

	it.each([
		[{ password: 'long enough passphrase here' }, 'token'],
		[{ token: 'too-short', password: 'long enough passphrase here' }, 'token'],
		[{ token: 'a'.repeat(32), password: 'short' }, 'password'],
		[{ token: 'a'.repeat(32), password: 'qwertyuiop' }, 'password'],
		[
			{ token: 'a'.repeat(32), password: 'a long passphrase for a link that never existed' },
			'token'
		]
	])('refuse %j with an error on %s, and never echo the token', async (form, field) => {
		const outcome = await new TestBrowser().call(resetActions.reset!, {
			path: '/reset-password?/reset',
			form
		});
		const { errors, values } = rejected(outcome);
		expect(Object.keys(errors)).toEqual([field]);
		expect(values).toEqual({});
	});

	it('refuse a malformed verification link', async () => {
		const outcome = await new TestBrowser().call(verifyActions.confirm!, {
			path: '/verify-email?/confirm',
			form: { token: 'garbage!' }
		});
		expect(rejected(outcome).errors).toEqual({
			form: 'This link is incomplete. Open it again from your email.'
		});
	});
});

describe('the welcome form (first provider sign-in)', () => {
	it('refuses a bad username before anything else', async () => {
		const outcome = await new TestBrowser().call(welcomeActions.create!, {
			path: '/welcome?/create',
			form: { username: 'no spaces please', displayName: 'Dan' }
		});
		expect(rejected(outcome)).toEqual({
			errors: { username: 'Use only letters, digits, "_" and ".".' },
			values: { username: 'no spaces please', displayName: 'Dan' }
		});
	});

	it('sends a browser that never came from a provider back to log in', async () => {
		const outcome = await new TestBrowser().call(welcomeActions.create!, {
			path: '/welcome?/create',
			form: { username: 'dan_is_here', displayName: 'Dan' }
		});
		expect(outcome).toEqual({ kind: 'redirect', status: 303, location: '/login?notice=failed' });
	});
});

describe('the profile form', () => {
	it.each([
		['displayName', { displayName: '' }, 'Enter a display name.'],
		['displayName', { displayName: 'x'.repeat(65) }, 'Display names are at most 64 characters.'],
		['bio', { bio: 'x'.repeat(501) }, 'Keep your bio under 500 characters.'],
		['statusText', { statusText: 'x'.repeat(81) }, 'Keep your status under 80 characters.']
	])('refuses a bad %s and saves nothing', async (field, change, message) => {
		const erin = await registerPerson('erin');
		const browser = await signedInBrowser(erin);
		const form = { displayName: 'Erin E.', bio: 'Hello', statusText: 'Around', ...change };
		const { errors, values } = rejected(
			await browser.call(profileActions.save!, { path: '/settings/profile?/save', form })
		);
		expect(errors).toEqual({ [field]: message });
		expect(values).toEqual(form);
		expect(await userRow(erin.id)).toMatchObject({ displayName: 'Erin', bio: '', statusText: '' });
	});

	it('saves good input', async () => {
		const fred = await registerPerson('fred');
		const browser = await signedInBrowser(fred);
		const outcome = await browser.call(profileActions.save!, {
			path: '/settings/profile?/save',
			form: { displayName: ' Fred F. ', bio: 'Bakes bread.', statusText: 'Out for lunch' }
		});
		expect(outcome).toEqual({ kind: 'data', data: { saved: true } });
		expect(await userRow(fred.id)).toMatchObject({
			displayName: 'Fred F.',
			bio: 'Bakes bread.',
			statusText: 'Out for lunch'
		});
	});
});

describe('the account forms', () => {
	it.each([
		[
			{ newEmail: 'broken@', currentPassword: PASSWORD },
			{ newEmail: 'Enter a valid email address.' }
		],
		[
			{ newEmail: 'SELF', currentPassword: PASSWORD },
			{ newEmail: 'That is already your address.' }
		],
		[
			{ newEmail: 'fresh@example.test', currentPassword: 'wrong' },
			{ currentPassword: 'That is not your current password.' }
		],
		[
			{ newEmail: 'TAKEN', currentPassword: PASSWORD },
			{ newEmail: 'Another account uses that address.' }
		]
	])('refuse an email change %j', async (form, expected) => {
		const gina = await registerPerson('gina');
		const other = await registerPerson('hugo');
		const browser = await signedInBrowser(gina);
		const newEmail =
			form.newEmail === 'SELF'
				? gina.email.toUpperCase()
				: form.newEmail === 'TAKEN'
					? other.email
					: form.newEmail;
		const outcome = await browser.call(accountActions.changeEmail!, {
			path: '/settings/account?/changeEmail',
			form: { ...form, newEmail }
		});
		const data = rejected(outcome);
		expect(data.errors).toEqual(expected);
		expect(data.values.currentPassword).toBeUndefined();
		expect((await userRow(gina.id)).email).toBe(gina.email);
	});

	it.each([
		[
			{ currentPassword: '', newPassword: 'a fine new passphrase' },
			{ currentPassword: 'Enter your current password.' }
		],
		[
			{ currentPassword: PASSWORD, newPassword: 'letmein123' },
			{ newPassword: 'That password is too common. Choose one that is harder to guess.' }
		],
		[
			{ currentPassword: PASSWORD, newPassword: 'short' },
			{ newPassword: 'Use at least 10 characters.' }
		]
	])('refuse a password change %j', async (form, expected) => {
		const ines = await registerPerson('ines');
		const browser = await signedInBrowser(ines);
		const before = (await userRow(ines.id)).passwordHash;
		const outcome = await browser.call(accountActions.changePassword!, {
			path: '/settings/account?/changePassword',
			form
		});
		expect(rejected(outcome)).toEqual({ section: 'password', errors: expected, values: {} });
		expect((await userRow(ines.id)).passwordHash).toBe(before);
	});

	it('refuse to set a "first" password on an account that has one', async () => {
		const jack = await registerPerson('jack');
		const browser = await signedInBrowser(jack);
		const outcome = await browser.call(accountActions.setPassword!, {
			path: '/settings/account?/setPassword',
			form: { newPassword: 'jack sneaks around the old one' }
		});
		expect(rejected(outcome).errors).toEqual({
			newPassword: 'This account already has a password.'
		});
	});

	it('refuse to revoke a session id that is not one', async () => {
		const kate = await registerPerson('kate');
		const browser = await signedInBrowser(kate);
		const outcome = await browser.call(sessionActions.revoke!, {
			path: '/settings/sessions?/revoke',
			form: { sessionId: 'drop table sessions' }
		});
		expect(rejected(outcome).errors).toEqual({ form: 'That session does not exist.' });
	});

	it('send a visitor who is not signed in away', async () => {
		const outcome = await new TestBrowser().call(accountActions.changePassword!, {
			path: '/settings/account?/changePassword',
			form: { currentPassword: 'x', newPassword: 'y' }
		});
		expect(outcome).toEqual({
			kind: 'redirect',
			status: 303,
			location: '/login?next=%2Fsettings%2Faccount'
		});
	});
});
