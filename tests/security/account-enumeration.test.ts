// Account enumeration through registration: mallory types addresses into the sign-up form to learn
// which of them have Parley accounts. The form must answer the same whatever the address, and only
// the address's owner (through their inbox) learns which case it was.
import { describe, expect, it, vi } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { mailOutbox, pendingRegistrations, sessions, users } from '$shared/db/schema';
import { hashSecret } from '$lib/server/ids';
import { actions as registerActions } from '../../src/routes/register/+page.server';
import { lastMailTo, db, registerPerson, tokenIn, userRow } from '../support/accounts';
import { TestBrowser, type Outcome } from '../support/request-event';

// Every registration hashes a password, which is deliberately slow.
vi.setConfig({ testTimeout: 60_000 });

/** The route that turns a mailed link into an account (loaded when used, so its absence fails a test, not the file). */
async function finishActions() {
	return (await import('../../src/routes/register/finish/+page.server')).actions;
}

function fresh(name: string) {
	const tag = `${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
	return {
		email: `${name}.${tag}@example.test`,
		username: `${name}_${tag}`,
		displayName: name[0]!.toUpperCase() + name.slice(1),
		password: `${name} types a long passphrase here`
	};
}

async function register(form: Record<string, string>, browser = new TestBrowser()) {
	const outcome = await browser.call(registerActions.default!, { path: '/register', form });
	return { browser, outcome };
}

async function finish(token: string, browser = new TestBrowser()) {
	const actions = await finishActions();
	const outcome = await browser.call(actions.finish!, {
		path: '/register/finish?/finish',
		form: { token }
	});
	return { browser, outcome };
}

async function accountsWith(email: string) {
	return db().select().from(users).where(eq(users.email, email.toLowerCase()));
}

async function mailCount(address: string) {
	const [row] = await db()
		.select({ n: count() })
		.from(mailOutbox)
		.where(eq(mailOutbox.toAddress, address.toLowerCase()));
	return row!.n;
}

/** What the browser sees, with the address it typed in place of the address itself. */
function seen(outcome: Outcome, browser: TestBrowser, email: string) {
	return {
		outcome: JSON.parse(JSON.stringify(outcome).replaceAll(email, '<address>')) as unknown,
		headers: browser.responseHeaders,
		cookies: [...browser.jar.cookies.keys()]
	};
}

describe('registering an address', () => {
	it('answers mallory the same for alice’s address and for a fresh one, and signs nobody in', async () => {
		const alice = await registerPerson('alice', { verified: true });
		const onAlice = { ...fresh('mallory'), email: alice.email };
		const onFresh = fresh('mallory');

		const taken = await register(onAlice);
		const free = await register(onFresh);

		expect(taken.outcome).toEqual({ kind: 'data', data: { sentTo: alice.email } });
		expect(seen(taken.outcome, taken.browser, alice.email)).toEqual(
			seen(free.outcome, free.browser, onFresh.email)
		);
		expect(taken.browser.jar.cookies.size).toBe(0);
		expect(free.browser.jar.cookies.size).toBe(0);
		expect(await accountsWith(onFresh.email)).toEqual([]);
		expect((await accountsWith(alice.email)).map((u) => u.id)).toEqual([alice.id]);
	});

	it('tells alice someone tried, with a way to log in or reset and no link that makes an account', async () => {
		const alice = await registerPerson('alice', { verified: true });
		await register({ ...fresh('mallory'), email: alice.email.toUpperCase() });

		const mail = await lastMailTo(alice.email);
		expect(mail?.subject).toBe('Someone tried to create a Parley account with your address');
		expect(mail?.bodyText).toContain('Someone tried to create a Parley account with this address.');
		expect(mail?.bodyText).toContain('https://parley.test/forgot-password');
		expect(mail?.bodyText).not.toContain('#token=');
		expect(mail?.bodyText).not.toContain('/register/finish');
		expect(await mailCount(alice.email)).toBe(1);
		expect(
			await db()
				.select()
				.from(pendingRegistrations)
				.where(eq(pendingRegistrations.email, alice.email))
		).toEqual([]);
	});

	it('sends alice at most a handful of those notes an hour, however mallory spells her address', async () => {
		const alice = await registerPerson('alice', { verified: true });
		const spellings = [alice.email, alice.email.toUpperCase(), ` ${alice.email}`];
		const outcomes = [];
		for (let i = 0; i < 6; i++) {
			const email = spellings[i % spellings.length]!;
			// From a different address each time, as a botnet would.
			const browser = new TestBrowser();
			outcomes.push(
				await browser.call(registerActions.default!, {
					path: '/register',
					form: { ...fresh('mallory'), email },
					headers: { 'cf-connecting-ip': `203.0.113.${i + 1}` }
				})
			);
		}
		expect(outcomes.at(-1)).toMatchObject({ kind: 'failure', status: 429 });
		expect(await mailCount(alice.email)).toBe(5);
	});

	it('still says at once that a username is taken: usernames are public', async () => {
		const bob = await registerPerson('bob');
		const { outcome } = await register({ ...fresh('mallory'), username: bob.username });
		expect(outcome).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { username: 'That username is taken.' } }
		});
	});
});

describe('the link that finishes a sign-up', () => {
	it('creates the account with its address proven and signs that browser in', async () => {
		const dora = fresh('dora');
		await register(dora);
		const mail = await lastMailTo(dora.email);
		expect(mail?.subject).toBe('Finish creating your Parley account');
		expect(mail?.bodyText).toContain('https://parley.test/register/finish#token=');

		const { browser, outcome } = await finish(tokenIn(mail!.bodyText));
		expect(outcome).toEqual({ kind: 'redirect', status: 303, location: '/' });
		const [account] = await accountsWith(dora.email);
		expect(account).toMatchObject({ username: dora.username, displayName: 'Dora' });
		expect(account!.emailVerifiedAt).not.toBeNull();
		expect(browser.jar.get('parley_session')).toBeTruthy();
		const [live] = await db()
			.select({ n: count() })
			.from(sessions)
			.where(eq(sessions.userId, account!.id));
		expect(live!.n).toBe(1);
		// The password typed at registration is the one that was kept.
		expect((await userRow(account!.id)).passwordHash).toMatch(/^scrypt\$/);
	});

	it('works once: a second use finds nothing', async () => {
		const erin = fresh('erin');
		await register(erin);
		const token = tokenIn((await lastMailTo(erin.email))!.bodyText);
		await finish(token);

		const { browser, outcome } = await finish(token);
		expect(outcome).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { form: 'This link has expired or was already used.' } }
		});
		expect(browser.jar.cookies.size).toBe(0);
		expect(await accountsWith(erin.email)).toHaveLength(1);
	});

	it('does nothing once it has expired', async () => {
		const fay = fresh('fay');
		await register(fay);
		const token = tokenIn((await lastMailTo(fay.email))!.bodyText);
		await db()
			.update(pendingRegistrations)
			.set({ expiresAt: Date.now() - 1 })
			.where(eq(pendingRegistrations.tokenHash, hashSecret(token)));

		const { outcome } = await finish(token);
		expect(outcome).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { form: 'This link has expired or was already used.' } }
		});
		expect(await accountsWith(fay.email)).toEqual([]);
	});

	it('says so when someone took the username while the link was on its way', async () => {
		const gus = fresh('gus');
		await register(gus);
		const token = tokenIn((await lastMailTo(gus.email))!.bodyText);
		const quick = fresh('quick');
		await register({ ...quick, username: gus.username });
		await finish(tokenIn((await lastMailTo(quick.email))!.bodyText));

		const { browser, outcome } = await finish(token);
		expect(outcome).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { reason: 'username-taken', username: gus.username }
		});
		expect(browser.jar.cookies.size).toBe(0);
		expect(await accountsWith(gus.email)).toEqual([]);
	});

	it('says so when the address got an account meanwhile, and sends its owner to log in', async () => {
		const hana = fresh('hana');
		await register(hana);
		const first = tokenIn((await lastMailTo(hana.email))!.bodyText);
		await register({ ...hana, username: `${hana.username}_2` });
		const second = tokenIn((await lastMailTo(hana.email))!.bodyText);
		// The newest link is the live one; the older was replaced.
		expect((await finish(first)).outcome).toMatchObject({ kind: 'failure', status: 400 });
		await finish(second);
		await db()
			.insert(pendingRegistrations)
			.values({
				tokenHash: hashSecret(first),
				email: hana.email.toLowerCase(),
				username: `${hana.username}_3`,
				displayName: 'Hana',
				passwordHash: 'scrypt$not-used',
				createdAt: Date.now(),
				expiresAt: Date.now() + 60_000
			});

		const { outcome } = await finish(first);
		expect(outcome).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { reason: 'email-taken' }
		});
		expect(await accountsWith(hana.email)).toHaveLength(1);
	});
});
