// Browsers that signed in to an account before. A lockout caused by someone guessing from
// elsewhere should cost them, not the owner: the owner's own browser, holding this cookie, is
// still let through with the right password (`password-attempts.ts`).
import type { Cookies } from '@sveltejs/kit';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { knownDevices } from '$shared/db/schema';
import { generateSecretToken, hashSecret } from '$lib/server/ids';

export const DEVICE_COOKIE = 'parley_device';
const DAY = 24 * 60 * 60 * 1000;
/** A browser unused for this long is a stranger again. */
const DEVICE_LIFETIME_MS = 365 * DAY;

/**
 * The browser's device secret, hashed, if it signed in to this account within the lifetime; null
 * otherwise. Null as well for an unknown account, after the same lookup.
 */
export async function recognizeDevice(
	db: Db,
	cookies: Cookies,
	userId: string | null,
	now = Date.now()
): Promise<string | null> {
	const token = cookies.get(DEVICE_COOKIE);
	if (!token) return null;
	const tokenHash = hashSecret(token);
	const [row] = await db
		.select({ tokenHash: knownDevices.tokenHash })
		.from(knownDevices)
		.where(
			and(
				eq(knownDevices.tokenHash, tokenHash),
				eq(knownDevices.userId, userId ?? ''),
				gt(knownDevices.lastUsedAt, now - DEVICE_LIFETIME_MS)
			)
		)
		.limit(1);
	return row ? tokenHash : null;
}

/**
 * Marks this browser as one that signed in to the account. The secret is replaced at every
 * sign-in, and the accounts the old one knew move to the new one: a secret someone planted in the
 * browser (or copied from it earlier) stops vouching for anything the moment its owner signs in.
 */
export async function rememberDevice(
	db: Db,
	cookies: Cookies,
	userId: string,
	now = Date.now()
): Promise<void> {
	const previous = cookies.get(DEVICE_COOKIE);
	const token = generateSecretToken();
	const tokenHash = hashSecret(token);
	await db.batch([
		db.delete(knownDevices).where(lt(knownDevices.lastUsedAt, now - DEVICE_LIFETIME_MS)),
		db
			.update(knownDevices)
			.set({ tokenHash })
			.where(eq(knownDevices.tokenHash, previous ? hashSecret(previous) : '')),
		db
			.insert(knownDevices)
			.values({ tokenHash, userId, createdAt: now, lastUsedAt: now })
			.onConflictDoUpdate({
				target: [knownDevices.tokenHash, knownDevices.userId],
				set: { lastUsedAt: now }
			})
	]);
	cookies.set(DEVICE_COOKIE, token, {
		path: '/',
		httpOnly: true,
		secure: true,
		sameSite: 'lax',
		maxAge: DEVICE_LIFETIME_MS / 1000
	});
}
