import { describe, expect, it } from 'vitest';
import {
	RateLimits,
	clientIp,
	consumeRateLimits,
	type RateLimitPolicy
} from '$lib/server/rate-limit';
import { actions as loginActions } from '../../../src/routes/login/+page.server';
import { actions as forgotActions } from '../../../src/routes/forgot-password/+page.server';
import { db, registerPerson } from '../../support/accounts';
import { TestBrowser } from '../../support/request-event';

const policy: RateLimitPolicy = { name: 'test', limit: 3, windowMs: 60_000 };
let subjects = 0;
const subject = () => `subject-${++subjects}-${Math.random()}`;

describe('rate limits', () => {
	it('count attempts across requests and, past the limit, say how long to wait', async () => {
		const who = subject();
		const now = 60_000 * 20_000_000 + 20_000; // 20 s into a one-minute window
		for (let i = 0; i < policy.limit; i++) {
			expect(await consumeRateLimits(db(), [[policy, who]], now + i)).toEqual({ ok: true });
		}
		expect(await consumeRateLimits(db(), [[policy, who]], now + 10)).toEqual({
			ok: false,
			retryAfterSeconds: 40
		});
	});

	it('start afresh in the next window', async () => {
		const who = subject();
		const now = 2_000_000_000_000;
		for (let i = 0; i <= policy.limit; i++) await consumeRateLimits(db(), [[policy, who]], now);
		expect((await consumeRateLimits(db(), [[policy, who]], now)).ok).toBe(false);
		expect((await consumeRateLimits(db(), [[policy, who]], now + policy.windowMs)).ok).toBe(true);
	});

	it('hold under concurrent requests: exactly the limit gets through', async () => {
		const who = subject();
		const results = await Promise.all(
			Array.from({ length: 8 }, () => consumeRateLimits(db(), [[policy, who]]))
		);
		expect(results.filter((r) => r.ok)).toHaveLength(policy.limit);
	});

	it('keep separate counters per subject, and the tightest one decides', async () => {
		const ip = subject();
		const [alice, bob] = [subject(), subject()];
		const strict = { ...policy, name: 'strict', limit: 1 };
		expect(
			(
				await consumeRateLimits(db(), [
					[policy, ip],
					[strict, alice]
				])
			).ok
		).toBe(true);
		expect(
			(
				await consumeRateLimits(db(), [
					[policy, ip],
					[strict, alice]
				])
			).ok
		).toBe(false);
		expect(
			(
				await consumeRateLimits(db(), [
					[policy, ip],
					[strict, bob]
				])
			).ok
		).toBe(true);
	});

	it('take the client address from Cloudflare, and leave loopback (local development) alone', () => {
		const from = (ip?: string) =>
			clientIp(
				new Request('https://parley.test/', { headers: ip ? { 'cf-connecting-ip': ip } : {} })
			);
		expect(from('203.0.113.9')).toBe('203.0.113.9');
		expect(from('2001:db8::1')).toBe('2001:db8::1');
		expect(from('127.0.0.1')).toBeNull();
		expect(from('::1')).toBeNull();
		expect(from()).toBeNull();
	});
});

describe('rate-limited forms', () => {
	it('refuse a login flood on one account with 429 and Retry-After, even with the right password', async () => {
		const alice = await registerPerson('alice');
		const browser = new TestBrowser();
		const attempt = (password: string) =>
			browser.call(loginActions.default!, {
				path: '/login',
				form: { login: alice.username, password },
				headers: { 'cf-connecting-ip': '198.51.100.7' }
			});
		for (let i = 0; i < RateLimits.loginPerAccount.limit; i++) {
			expect(await attempt('not the password')).toMatchObject({ kind: 'failure', status: 400 });
		}
		const limited = await attempt(alice.password);
		expect(limited).toMatchObject({ kind: 'failure', status: 429 });
		expect(limited.kind === 'failure' && limited.data.errors).toEqual({
			// Windows are fixed (aligned to the clock), so the wait left may be down to seconds.
			form: expect.stringMatching(/^Too many attempts\. Try again in \d+ (minutes?|seconds?)\./)
		});
		expect(Number(browser.responseHeaders['retry-after'])).toBeGreaterThan(0);
		expect(browser.jar.get('parley_session')).toBeUndefined();
	}, 60_000);

	it('refuse a flood of reset requests from one address, whatever accounts it names', async () => {
		const browser = new TestBrowser();
		const ip = '192.0.2.44';
		for (let i = 0; i < RateLimits.resetRequestPerIp.limit; i++) {
			const outcome = await browser.call(forgotActions.request!, {
				path: '/forgot-password',
				form: { email: `someone${i}-${subject()}@example.test` },
				headers: { 'cf-connecting-ip': ip }
			});
			expect(outcome.kind).toBe('data');
		}
		const limited = await browser.call(forgotActions.request!, {
			path: '/forgot-password',
			form: { email: 'one-more@example.test' },
			headers: { 'cf-connecting-ip': ip }
		});
		expect(limited).toMatchObject({ kind: 'failure', status: 429 });
		expect(browser.responseHeaders['retry-after']).toMatch(/^\d+$/);
	});
});
