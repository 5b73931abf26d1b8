import { afterEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { pendingRegistrations } from '$shared/db/schema';
import { getMailer } from '$lib/server/accounts/mailer';
import { load as loadOutbox } from '../../../../src/routes/dev/mail/+page.server';
import { actions as forgotPassword } from '../../../../src/routes/forgot-password/+page.server';
import { actions as registration } from '../../../../src/routes/register/+page.server';
import appConfig from '../../../../wrangler.toml?raw';
import { db, lastMailTo, registerPerson } from '../../../support/accounts';
import { TestBrowser } from '../../../support/request-event';

afterEach(() => {
	vi.unstubAllGlobals();
});

const mail = (to: string) => ({ to, subject: 'Hello', text: 'A line\nhttps://parley.test/x' });
const withEnv = (vars: Record<string, string>) => ({ ...env, ...vars }) as unknown as Env;

describe('the mailer', () => {
	it('keeps development mail in the local outbox', async () => {
		const to = `outbox${Date.now()}@example.test`;
		await getMailer(withEnv({ APP_ENV: 'development' }), db()).send(mail(to));
		expect(await lastMailTo(to)).toMatchObject({ subject: 'Hello', bodyText: mail(to).text });
	});

	it('sends production mail through the HTTP API with the API key', async () => {
		const sent: Request[] = [];
		vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
			sent.push(new Request(input, init));
			return Response.json({ id: 'msg_1' });
		});
		const to = `prod${Date.now()}@example.test`;
		const mailer = getMailer(
			withEnv({
				APP_ENV: 'production',
				RESEND_API_KEY: 're_test_key',
				MAIL_FROM: 'Parley <hello@parley.test>',
				MAIL_API_URL: 'https://mail-api.standin.test/emails'
			}),
			db()
		);
		await mailer.send(mail(to));
		expect(sent).toHaveLength(1);
		expect(sent[0]!.url).toBe('https://mail-api.standin.test/emails');
		expect(sent[0]!.headers.get('authorization')).toBe('Bearer re_test_key');
		expect(await sent[0]!.json()).toEqual({
			from: 'Parley <hello@parley.test>',
			to: [to],
			subject: 'Hello',
			text: mail(to).text
		});
		expect(await lastMailTo(to)).toBeNull();
	});

	it('fails loudly when the mail API refuses, or when production has no key', async () => {
		vi.stubGlobal('fetch', async () => Response.json({ message: 'invalid key' }, { status: 401 }));
		const configured = {
			APP_ENV: 'production',
			RESEND_API_KEY: 're_bad',
			MAIL_FROM: 'hello@parley.test',
			MAIL_API_URL: 'https://mail-api.standin.test/emails'
		};
		await expect(getMailer(withEnv(configured), db()).send(mail('x@example.test'))).rejects.toThrow(
			'HTTP 401'
		);
		expect(() => getMailer(withEnv({ APP_ENV: 'production' }), db())).toThrow('RESEND_API_KEY');
	});
});

/** APP_ENV as the app's wrangler.toml deploys it, with no local override. */
const shippedAppEnv = /^APP_ENV\s*=\s*"([^"]*)"/m.exec(appConfig)?.[1];

describe('a deployment that was not told it is development', () => {
	it("refuses bob's password reset loudly without mail settings, and writes his link nowhere", async () => {
		const bob = await registerPerson('bob');
		const deployed = new TestBrowser({ ...env, APP_ENV: shippedAppEnv });
		await expect(
			deployed.call(forgotPassword.request!, {
				path: '/forgot-password?/request',
				form: { email: bob.email }
			})
		).rejects.toThrow('Production mail needs the RESEND_API_KEY secret');
		expect(await lastMailTo(bob.email)).toBeNull();
	});

	it("refuses carol's sign-up loudly without mail settings, and keeps nothing of it", async () => {
		const email = `carol${Date.now()}@example.test`;
		const deployed = new TestBrowser({ ...env, APP_ENV: shippedAppEnv });
		await expect(
			deployed.call(registration.default!, {
				path: '/register',
				form: {
					email,
					username: `carol${Date.now().toString(36)}`,
					displayName: 'Carol',
					password: 'carol has a long password'
				}
			})
		).rejects.toThrow('Production mail needs the RESEND_API_KEY secret');
		const kept = await db()
			.select()
			.from(pendingRegistrations)
			.where(eq(pendingRegistrations.email, email));
		expect(kept).toEqual([]);
	});

	it('refuses an address of nobody just as loudly, so the failure tells mallory nothing', async () => {
		const deployed = new TestBrowser({ ...env, APP_ENV: shippedAppEnv });
		await expect(
			deployed.call(forgotPassword.request!, {
				path: '/forgot-password?/request',
				form: { email: `nobody${Date.now()}@example.test` }
			})
		).rejects.toThrow('Production mail needs the RESEND_API_KEY secret');
	});

	it('is production when APP_ENV is missing or misspelt', () => {
		const { APP_ENV: _, ...unset } = env;
		for (const deployed of [
			unset as unknown as Env,
			withEnv({ APP_ENV: 'prod' }),
			withEnv({ APP_ENV: 'Development' }),
			withEnv({ APP_ENV: '' })
		]) {
			expect(() => getMailer(deployed, db()), String(deployed.APP_ENV)).toThrow('RESEND_API_KEY');
		}
	});
});

describe('the development outbox page', () => {
	it('lists sent mail in development', async () => {
		const to = `page${Date.now()}@example.test`;
		await getMailer(withEnv({ APP_ENV: 'development' }), db()).send(mail(to));
		const outcome = await new TestBrowser().call(loadOutbox, {
			path: 'http://localhost:8787/dev/mail'
		});
		expect(outcome.kind).toBe('data');
		const listed =
			outcome.kind === 'data' ? (outcome.data as { mail: { toAddress: string }[] }).mail : [];
		expect(listed.map((m) => m.toAddress)).toContain(to);
	});

	it('does not exist in production', async () => {
		const outcome = await new TestBrowser({ ...env, APP_ENV: 'production' }).call(loadOutbox, {
			path: 'http://localhost:8787/dev/mail'
		});
		expect(outcome).toMatchObject({ kind: 'error', status: 404 });
	});

	it('is not served to anyone but the local machine, even if APP_ENV was left unset', async () => {
		const outcome = await new TestBrowser().call(loadOutbox, {
			path: 'https://parley.example/dev/mail'
		});
		expect(outcome).toMatchObject({ kind: 'error', status: 404 });
	});
});
