// Every check of a typed password against an account goes through here: the login form and the
// settings forms that ask for the current password share one limiter, one key and one policy.
import type { Cookies } from '@sveltejs/kit';
import type { Db } from '$lib/server/db';
import { recognizeDevice } from './known-devices';
import { verifyPassword } from './password';
import { RateLimits, clientIp, consumeRateLimits } from '$lib/server/rate-limit';

export type PasswordAttempt =
	{ ok: true } | { ok: false; status: 400 } | { ok: false; status: 429; retryAfterSeconds: number };

/** Checked when the account doesn't exist or has no password, so every answer takes as long. */
const DECOY_HASH =
	'scrypt$16384$8$5$DXIrghlXw48d0zUpMULTMA==$grOwF5prp0CoUFTOEIfVx7pUmeKISGEbFtmBVlvNiJ4=';

/**
 * What the per-account counter is keyed on: the account, however it was named (username or
 * email), so each way of typing it does not get guesses of its own. A name of no account is
 * counted under what was typed, at the same cost, so the limit tells nothing about who exists.
 */
export function accountSubject(userId: string | null, typed = ''): string {
	return userId ? `user:${userId}` : `name:${typed.trim().toLowerCase()}`;
}

/**
 * Counts the attempt, then checks the password (the count comes first: a check is what the
 * limit protects, and a refused attempt never learns whether its password was right).
 *
 * The lockout policy: an account takes `loginPerAccount` attempts from browsers it does not know,
 * then refuses them, right password or not, until the window slides on. A browser that signed in
 * to this account before (`known-devices.ts`) is counted apart, on `loginPerKnownDevice` for that
 * browser and account, so an attacker guessing from elsewhere cannot lock the owner out of a
 * device they already use; someone holding that browser still gets no more guesses than anyone.
 * Every attempt also counts against the client's address (`loginPerIp`).
 */
export async function attemptPassword(
	db: Db,
	request: Request,
	cookies: Cookies,
	account: { id: string; passwordHash: string | null } | null,
	typed: { login?: string; password: string }
): Promise<PasswordAttempt> {
	const device = await recognizeDevice(db, cookies, account?.id ?? null);
	const limit = await consumeRateLimits(db, [
		[RateLimits.loginPerIp, clientIp(request)],
		device && account
			? [RateLimits.loginPerKnownDevice, `${device}:${account.id}`]
			: [RateLimits.loginPerAccount, accountSubject(account?.id ?? null, typed.login)]
	]);
	if (!limit.ok) return { ok: false, status: 429, retryAfterSeconds: limit.retryAfterSeconds };
	const valid = await verifyPassword(account?.passwordHash ?? DECOY_HASH, typed.password);
	return valid && account?.passwordHash ? { ok: true } : { ok: false, status: 400 };
}
