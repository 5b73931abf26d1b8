import { describeWait as describeWaitMs } from '$shared/durations';
import { fail, type ActionFailure } from '@sveltejs/kit';
import { lt, sql } from 'drizzle-orm';
import type { Db } from './db';
import { rateLimits } from '$shared/db/schema';
import type { RejectedForm } from './forms';
import { hashSecret } from './ids';

export type RateLimitPolicy = { name: string; limit: number; windowMs: number };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Per IP against floods from one place, per account against guessing one account's secrets from
 * many places. A limit must apply whether the account exists or not: one that only applied to
 * real accounts would reveal which ones are. Password checks key theirs as `accountSubject` says.
 */
export const RateLimits = {
	loginPerIp: { name: 'login:ip', limit: 30, windowMs: 15 * MINUTE },
	loginPerAccount: { name: 'login:account', limit: 10, windowMs: 15 * MINUTE },
	/** A browser that signed in to the account before, counted apart from everyone else. */
	loginPerKnownDevice: { name: 'login:device', limit: 10, windowMs: 15 * MINUTE },
	registerPerIp: { name: 'register:ip', limit: 10, windowMs: HOUR },
	registerPerAccount: { name: 'register:account', limit: 5, windowMs: HOUR },
	verifyPerIp: { name: 'verify:ip', limit: 30, windowMs: 15 * MINUTE },
	verifyEmailSendPerAccount: { name: 'verify-send:account', limit: 5, windowMs: HOUR },
	resetRequestPerIp: { name: 'reset-request:ip', limit: 10, windowMs: HOUR },
	resetRequestPerAccount: { name: 'reset-request:account', limit: 3, windowMs: HOUR },
	resetPerIp: { name: 'reset:ip', limit: 30, windowMs: 15 * MINUTE },
	/** Search as one types asks on most pauses in typing: two a second for a minute is plenty. */
	searchPerAccount: { name: 'search:account', limit: 120, windowMs: MINUTE },
	/**
	 * Every request to the public API, per token (or per person, for their session): ten a second
	 * on average, more than a bot needs; sending messages has the room's own, tighter limit too.
	 */
	apiPerCaller: { name: 'api:caller', limit: 600, windowMs: MINUTE },
	/** Posts to one incoming webhook (a build server, an alert): two a second on average. */
	webhookPerHook: { name: 'webhook:hook', limit: 120, windowMs: MINUTE },
	/**
	 * Reports of messages and people, per reporter: more than anyone meets in honest use, few
	 * enough that one person cannot bury a room's admins in them.
	 */
	reportsPerPerson: { name: 'reports:person', limit: 20, windowMs: HOUR },
	/**
	 * Data exports (a person's archive, a room's history): each reads everything, page by page,
	 * and files from R2. Enough to retry a failed download a few times, not to make it a load.
	 */
	exportsPerPerson: { name: 'exports:person', limit: 10, windowMs: HOUR },
	/**
	 * Claims of end-to-end encryption KeyPackages, one per encrypted room whose group a client
	 * brings up to date (a member or a device to add): a client catching up on many rooms at once
	 * fits, while one member taking a room's KeyPackages over and over is slowed.
	 */
	e2eeClaimsPerPerson: { name: 'e2ee-claims:person', limit: 120, windowMs: 10 * MINUTE },
	/**
	 * A device waiting to be let into an encrypted room asks the room's devices to look (each ask
	 * is a frame to every socket in the room): a few times a minute is plenty.
	 */
	e2eeKnocksPerPerson: { name: 'e2ee-knocks:person', limit: 20, windowMs: 10 * MINUTE }
} as const satisfies Record<string, RateLimitPolicy>;

export type RateLimitCheck = [policy: RateLimitPolicy, subject: string | null];
export type RateLimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Rows this much older than their window are dead weight; a few requests sweep them. */
const SWEEP_AFTER_MS = 24 * HOUR;
const SWEEP_PROBABILITY = 0.01;

/**
 * Counts one attempt against each check and answers whether all of them are still within their
 * limit. Counters live in D1, so every isolate sees the same ones. A null subject is not counted:
 * see `clientIp`.
 *
 * Each counter is a sliding window, approximated from two fixed ones: the attempts of the window
 * now running plus those of the window before, weighted by the share of it that still lies within
 * the last `windowMs`. A fixed window alone would let a burst straddle its boundary and get twice
 * the limit through. Refused attempts count too, so hammering only lengthens the wait.
 */
export async function consumeRateLimits(
	db: Db,
	checks: RateLimitCheck[],
	now = Date.now()
): Promise<RateLimitResult> {
	const counted = checks.filter((check): check is [RateLimitPolicy, string] => check[1] !== null);
	if (counted.length === 0) return { ok: true };
	const statements = counted.map(([policy, subject]) => {
		const windowStart = now - (now % policy.windowMs);
		const previousStart = windowStart - policy.windowMs;
		// One upsert: atomic in D1, so concurrent requests never lose a count. Every expression
		// reads the row as it was before this attempt.
		return db
			.insert(rateLimits)
			.values({ key: rateLimitKey(policy, subject), count: 1, previousCount: 0, windowStart })
			.onConflictDoUpdate({
				target: rateLimits.key,
				set: {
					previousCount: sql`case ${rateLimits.windowStart}
						when ${windowStart} then ${rateLimits.previousCount}
						when ${previousStart} then ${rateLimits.count}
						else 0 end`,
					count: sql`case when ${rateLimits.windowStart} = ${windowStart} then ${rateLimits.count} + 1 else 1 end`,
					windowStart: sql`${windowStart}`
				}
			})
			.returning({
				count: rateLimits.count,
				previousCount: rateLimits.previousCount,
				windowStart: rateLimits.windowStart
			});
	});
	const [first, ...rest] = statements;
	const results = await db.batch([first!, ...rest]);
	if (Math.random() < SWEEP_PROBABILITY) {
		await db.delete(rateLimits).where(lt(rateLimits.windowStart, now - SWEEP_AFTER_MS));
	}

	let retryAfterMs = 0;
	results.forEach(([row], i) => {
		if (!row) return;
		const wait = waitFor(counted[i]![0], row, now);
		retryAfterMs = Math.max(retryAfterMs, wait ?? 0);
	});
	return retryAfterMs > 0
		? { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) }
		: { ok: true };
}

type Counter = { count: number; previousCount: number; windowStart: number };

/**
 * How long until the next attempt would be let through, or null if this one was. The estimate is
 * `previousCount * (share of the previous window still inside the sliding window) + count`.
 */
function waitFor(policy: RateLimitPolicy, counter: Counter, now: number): number | null {
	const { limit, windowMs } = policy;
	const { count, previousCount } = counter;
	const elapsed = now - counter.windowStart;
	const stillInside = Math.max(0, windowMs - elapsed) / windowMs;
	if (previousCount * stillInside + count <= limit) return null;
	// The next attempt adds one to this window's count.
	if (count + 1 <= limit) {
		// It fits in this window once enough of the previous one has slid out.
		const at = windowMs - ((limit - count - 1) * windowMs) / previousCount;
		return Math.max(1, at - elapsed);
	}
	// Not in this window: in the next, this window's count is the previous one that slides out.
	const into = windowMs - ((limit - 1) * windowMs) / count;
	return windowMs - elapsed + Math.max(0, into);
}

/** Subjects are hashed: the table never holds addresses or emails. */
export function rateLimitKey(policy: RateLimitPolicy, subject: string): string {
	return `${policy.name}:${hashSecret(subject.trim().toLowerCase())}`;
}

/**
 * The client's address as Cloudflare reports it (the edge overwrites any value a client sends).
 * Loopback means a developer's machine, where every browser and every test shares one address:
 * per-IP limits would only throttle the test suite there, so they are not applied.
 */
export function clientIp(request: Request): string | null {
	const ip = request.headers.get('cf-connecting-ip')?.trim();
	if (!ip) return null;
	if (ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')) return null;
	return ip;
}

/** Answers a rate-limited form post: status 429, Retry-After, and a message above the form. */
export function rejectRateLimited(
	setHeaders: (headers: Record<string, string>) => void,
	retryAfterSeconds: number,
	values: Record<string, string>
): ActionFailure<RejectedForm> {
	setHeaders({ 'retry-after': String(retryAfterSeconds) });
	return fail(429, {
		values,
		errors: { form: `Too many attempts. Try again in ${describeWait(retryAfterSeconds)}.` }
	});
}

/** A wait given in seconds, in words ("12 seconds", "15 minutes"). */
export function describeWait(seconds: number): string {
	return describeWaitMs(seconds * 1000);
}
