// Guessing passwords and locking owners out: mallory guesses alice's password from browsers of her
// own. The per-account counter must count the account, whatever name she types, and her guesses
// must not keep alice out of her own account on a browser alice signed in with before.
import { describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { rateLimits } from '$shared/db/schema';
import { DEVICE_COOKIE } from '$lib/server/auth/known-devices';
import { accountSubject } from '$lib/server/auth/password-attempts';
import { RateLimits, rateLimitKey } from '$lib/server/rate-limit';
import { actions as loginActions } from '../../src/routes/login/+page.server';
import { actions as logoutActions } from '../../src/routes/logout/+page.server';
import { PASSWORD, db, registerPerson } from '../support/accounts';
import { TestBrowser } from '../support/request-event';

vi.setConfig({ testTimeout: 120_000 });

const { limit } = RateLimits.loginPerAccount;

function logIn(browser: TestBrowser, login: string, password: string) {
	return browser.call(loginActions.default!, { path: '/login', form: { login, password } });
}

/** Alice signs in on her laptop through the login form, then signs out again. */
async function aliceKnownLaptop(alice: { username: string }) {
	const laptop = new TestBrowser();
	expect(await logIn(laptop, alice.username, PASSWORD)).toMatchObject({ kind: 'redirect' });
	await laptop.call(logoutActions.default!, { path: '/logout', form: {} });
	expect(laptop.jar.get('parley_session')).toBeUndefined();
	return laptop;
}

/** Mallory guesses from a fresh browser each time, as a botnet would. */
async function malloryGuesses(login: string, times: number) {
	const statuses = [];
	for (let i = 0; i < times; i++) {
		const outcome = await logIn(new TestBrowser(), login, `mallory guess number ${i}`);
		statuses.push(outcome.kind === 'failure' ? outcome.status : outcome.kind);
	}
	return statuses;
}

describe('guessing an account’s password', () => {
	it('mallory’s ten guesses by username and ten by email count as twenty against the one account', async () => {
		const alice = await registerPerson('alice');
		expect(await malloryGuesses(alice.username, limit)).toEqual(Array(limit).fill(400));
		// Typing the email instead opens no fresh counter: every one of these is refused unchecked.
		expect(await malloryGuesses(alice.email.toUpperCase(), limit)).toEqual(Array(limit).fill(429));
		const [counter] = await db()
			.select()
			.from(rateLimits)
			.where(
				eq(rateLimits.key, rateLimitKey(RateLimits.loginPerAccount, accountSubject(alice.id)))
			);
		expect(counter!.count + counter!.previousCount).toBe(2 * limit);
	});

	it('names of no account are limited the same way, so the limit tells nothing about who exists', async () => {
		const nobody = `nobody_${Date.now()}`;
		expect(await malloryGuesses(nobody, limit + 1)).toEqual([...Array(limit).fill(400), 429]);
	});
});

describe('a lockout', () => {
	it('does not keep alice out on the laptop she signed in with before, with the right password', async () => {
		const alice = await registerPerson('alice');
		const laptop = await aliceKnownLaptop(alice);
		expect(laptop.jar.cookies.get(DEVICE_COOKIE)).toMatchObject({
			httpOnly: true,
			secure: true,
			path: '/'
		});
		await malloryGuesses(alice.username, limit);

		// A browser alice never used is refused even with the right password…
		const hotelComputer = new TestBrowser();
		expect(await logIn(hotelComputer, alice.username, PASSWORD)).toMatchObject({
			kind: 'failure',
			status: 429
		});
		expect(hotelComputer.jar.get('parley_session')).toBeUndefined();
		// …her laptop is let in.
		expect(await logIn(laptop, alice.email, PASSWORD)).toEqual({
			kind: 'redirect',
			status: 303,
			location: '/'
		});
		expect(laptop.jar.get('parley_session')).toBeTruthy();
	});

	it('still limits guesses from a known laptop, on a counter of its own', async () => {
		const alice = await registerPerson('alice');
		const laptop = await aliceKnownLaptop(alice);
		await malloryGuesses(alice.username, limit);
		for (let i = 0; i < RateLimits.loginPerKnownDevice.limit; i++) {
			expect(await logIn(laptop, alice.username, 'a wrong guess')).toMatchObject({ status: 400 });
		}
		expect(await logIn(laptop, alice.username, PASSWORD)).toMatchObject({ status: 429 });
	});

	it('is not lifted for an account the browser never signed in to', async () => {
		const [alice, bob] = [await registerPerson('alice'), await registerPerson('bob')];
		const laptop = await aliceKnownLaptop(alice);
		await malloryGuesses(bob.username, limit);
		expect(await logIn(laptop, bob.username, PASSWORD)).toMatchObject({ status: 429 });
	});

	it('is not lifted by a device cookie someone else planted before alice signed in', async () => {
		const alice = await registerPerson('alice');
		const mallory = await registerPerson('mallory');
		// Mallory's own known browser; she copies its cookie into alice's laptop.
		const malloryBrowser = await aliceKnownLaptop(mallory);
		const planted = malloryBrowser.jar.get(DEVICE_COOKIE)!;
		const laptop = new TestBrowser();
		laptop.jar.for(new URL('https://parley.test/')).set(DEVICE_COOKIE, planted, { path: '/' });
		expect(await logIn(laptop, alice.username, PASSWORD)).toMatchObject({ kind: 'redirect' });
		// Signing in gave the laptop a new secret: the one mallory kept knows nothing of alice.
		expect(laptop.jar.get(DEVICE_COOKIE)).not.toBe(planted);
		await malloryGuesses(alice.username, limit);
		const withPlanted = new TestBrowser();
		withPlanted.jar.for(new URL('https://parley.test/')).set(DEVICE_COOKIE, planted, { path: '/' });
		expect(await logIn(withPlanted, alice.username, PASSWORD)).toMatchObject({ status: 429 });
	});
});
