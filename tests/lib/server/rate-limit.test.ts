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
		// Four attempts in this window, so no more fit in it. The next fits 30 s into the next
		// window, when half of these four still count and make 3 with it: 40 + 30 s from now.
		expect(await consumeRateLimits(db(), [[policy, who]], now + 10)).toEqual({
			ok: false,
			retryAfterSeconds: 70
		});
	});

	it('let through again exactly when they said to wait until', async () => {
		for (const offset of [5_000, 30_000, 59_000]) {
			const who = subject();
			const start = 60_000 * 21_000_000;
			for (let i = 0; i < policy.limit; i++) await consumeRateLimits(db(), [[policy, who]], start);
			const refused = await consumeRateLimits(db(), [[policy, who]], start + offset);
			if (refused.ok) throw new Error('the attempt over the limit was let through');
			const after = start + offset + refused.retryAfterSeconds * 1000;
			expect(await consumeRateLimits(db(), [[policy, who]], after)).toEqual({ ok: true });
		}
	});

	it('let only the limit through when a burst straddles the end of a window', async () => {
		const who = subject();
		const boundary = 60_000 * 22_000_000;
		const results = [];
		for (let i = 0; i < policy.limit; i++) {
			results.push(await consumeRateLimits(db(), [[policy, who]], boundary - 1_000));
		}
		for (let i = 0; i < policy.limit; i++) {
			results.push(await consumeRateLimits(db(), [[policy, who]], boundary + 1_000));
		}
		expect(results.filter((r) => r.ok)).toHaveLength(policy.limit);
	});

	it("count the previous window's attempts less as it slides out, and not at all after it", async () => {
		const early = subject();
		const late = subject();
		const idle = subject();
		const start = 60_000 * 23_000_000;
		for (const who of [early, late, idle]) {
			for (let i = 0; i < policy.limit; i++) await consumeRateLimits(db(), [[policy, who]], start);
		}
		const next = start + policy.windowMs;
		// 10 s into the next window, 3 x 50/60 of them still count: with this one, over 3.
		expect((await consumeRateLimits(db(), [[policy, early]], next + 10_000)).ok).toBe(false);
		// 40 s in, 3 x 20/60 = 1 still counts: this one and another fit.
		expect((await consumeRateLimits(db(), [[policy, late]], next + 40_000)).ok).toBe(true);
		expect((await consumeRateLimits(db(), [[policy, late]], next + 40_000)).ok).toBe(true);
		// A whole window later, nothing of them counts.
		for (let i = 0; i < policy.limit; i++) {
			expect((await consumeRateLimits(db(), [[policy, idle]], next + policy.windowMs)).ok).toBe(
				true
			);
		}
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
			// Sliding windows: the wait depends on where in the clock's window the flood fell.
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
