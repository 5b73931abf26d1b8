import { and, eq, isNull, ne } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { knownDevices, oauthAccounts, users } from '$shared/db/schema';
import { consumeEmailToken, revokeEmailTokens } from '$lib/server/auth/email-tokens';
import { hashPassword } from '$lib/server/auth/password';
import { invalidateAllSessions, invalidateOtherSessions } from '$lib/server/auth/session';
import { normalizeEmail } from './users';

export type Account = typeof users.$inferSelect;
export type Outcome = { ok: true } | { ok: false; field: string; message: string };

/**
 * How recent a provider sign-in must be for an account without a password to change its email or
 * set one: that proof is all such an account has instead of a current password.
 */
export const PROVIDER_REAUTH_WINDOW_MS = 10 * 60 * 1000;

export const MAX_BIO_LENGTH = 500;
export const MAX_STATUS_LENGTH = 80;

export async function getAccount(db: Db, userId: string): Promise<Account | null> {
	const [user] = await db
		.select()
		.from(users)
		.where(and(eq(users.id, userId), isNull(users.deletedAt)))
		.limit(1);
	return user ?? null;
}

export async function updateProfile(
	db: Db,
	userId: string,
	profile: { displayName: string; bio: string; statusText: string }
): Promise<void> {
	await db.update(users).set(profile).where(eq(users.id, userId));
}

/**
 * For the holder of the current password, which the caller has checked through
 * `attemptPassword` (so a borrowed unlocked browser can neither lock the owner out nor guess
 * without limit). Other sessions end: whoever knew the old password is signed out. Answers which
 * sessions ended, so their open sockets can be closed too.
 */
export async function changePassword(
	db: Db,
	userId: string,
	sessionId: string,
	newPassword: string
): Promise<string[]> {
	await db
		.update(users)
		.set({ passwordHash: await hashPassword(newPassword) })
		.where(eq(users.id, userId));
	const [endedSessions] = await Promise.all([
		invalidateOtherSessions(db, userId, sessionId),
		revokeEmailTokens(db, userId, 'reset_password')
	]);
	return endedSessions;
}

/** Whether the session proved its user at a linked provider recently enough. */
export function hasRecentProviderAuth(
	session: { providerAuthAt: number | null },
	now = Date.now()
): boolean {
	return (
		session.providerAuthAt !== null && now - session.providerAuthAt < PROVIDER_REAUTH_WINDOW_MS
	);
}

/** For accounts made through GitHub or Google: a first password, so a provider can be unlinked. */
export async function setFirstPassword(
	db: Db,
	userId: string,
	newPassword: string
): Promise<Outcome> {
	const updated = await db
		.update(users)
		.set({ passwordHash: await hashPassword(newPassword) })
		.where(and(eq(users.id, userId), isNull(users.passwordHash)))
		.returning({ id: users.id });
	return updated.length > 0
		? { ok: true }
		: { ok: false, field: 'newPassword', message: 'This account already has a password.' };
}

/**
 * The address of an account was just proven for the first time. Until now the account may have
 * been someone else's: anyone can register an address they don't own and sign in with it, so
 * every way in made before this proof goes (provider links, sessions, known browsers), except
 * the session that brought the proof. Answers the sessions that ended.
 */
async function forgetUnprovenAccess(
	db: Db,
	userId: string,
	keepSessionId: string | null
): Promise<string[]> {
	await db.batch([
		db.delete(oauthAccounts).where(eq(oauthAccounts.userId, userId)),
		db.delete(knownDevices).where(eq(knownDevices.userId, userId))
	]);
	return keepSessionId
		? invalidateOtherSessions(db, userId, keepSessionId)
		: invalidateAllSessions(db, userId);
}

/**
 * Spends a reset link. Every session of the account ends except `keepSessionId` when it is the
 * account's own (someone resetting while signed in stays signed in); the link also proves the
 * address, so an unverified one becomes verified, and what was made before that proof goes
 * (`forgetUnprovenAccess`).
 */
export async function resetPasswordWithToken(
	db: Db,
	token: string,
	newPassword: string,
	keepSessionId: string | null
): Promise<{ ok: true; userId: string; endedSessions: string[] } | { ok: false }> {
	const grant = await consumeEmailToken(db, token, ['reset_password']);
	if (!grant) return { ok: false };
	const user = await getAccount(db, grant.userId);
	if (!user) return { ok: false };
	const firstProof = user.emailVerifiedAt === null && grant.email === user.email;
	await db
		.update(users)
		.set({
			passwordHash: await hashPassword(newPassword),
			emailVerifiedAt: firstProof ? Date.now() : user.emailVerifiedAt
		})
		.where(eq(users.id, user.id));
	await revokeEmailTokens(db, user.id, 'reset_password');
	const endedSessions = firstProof
		? await forgetUnprovenAccess(db, user.id, keepSessionId)
		: keepSessionId
			? await invalidateOtherSessions(db, user.id, keepSessionId)
			: await invalidateAllSessions(db, user.id);
	return { ok: true, userId: user.id, endedSessions };
}

export type EmailConfirmation =
	| {
			ok: true;
			purpose: 'verify_email' | 'change_email';
			email: string;
			userId: string;
			/** Sessions a first proof of the address ended, whose sockets must close. */
			endedSessions: string[];
	  }
	| { ok: false; message: string };

const STALE_LINK = 'This link has expired or was already used. Ask for a new one from Settings.';

/**
 * Spends a verification or email-change link. A first verification is a first proof of the
 * address (`forgetUnprovenAccess`); `keepSessionId` is the confirming browser's session.
 */
export async function confirmEmailToken(
	db: Db,
	token: string,
	keepSessionId: string | null
): Promise<EmailConfirmation> {
	const grant = await consumeEmailToken(db, token, ['verify_email', 'change_email']);
	if (!grant) return { ok: false, message: STALE_LINK };
	const now = Date.now();
	const confirmed = { ok: true, email: grant.email, userId: grant.userId } as const;
	if (grant.purpose === 'verify_email') {
		// Only the address the link was sent to: after an email change an old link proves nothing.
		const sameAddress = and(
			eq(users.id, grant.userId),
			eq(users.email, grant.email),
			isNull(users.deletedAt)
		);
		const verified = await db
			.update(users)
			.set({ emailVerifiedAt: now })
			.where(and(sameAddress, isNull(users.emailVerifiedAt)))
			.returning({ id: users.id });
		if (verified.length > 0) {
			const endedSessions = await forgetUnprovenAccess(db, grant.userId, keepSessionId);
			return { ...confirmed, purpose: 'verify_email', endedSessions };
		}
		const [already] = await db.select({ id: users.id }).from(users).where(sameAddress).limit(1);
		return already
			? { ...confirmed, purpose: 'verify_email', endedSessions: [] }
			: { ok: false, message: 'This link is for an address your account no longer uses.' };
	}
	if (grant.purpose !== 'change_email') return { ok: false, message: STALE_LINK };
	if (await isEmailTaken(db, grant.email, grant.userId)) {
		return { ok: false, message: 'Another account now uses that address.' };
	}
	try {
		const changed = await db
			.update(users)
			.set({ email: grant.email, emailVerifiedAt: now })
			.where(and(eq(users.id, grant.userId), isNull(users.deletedAt)))
			.returning({ id: users.id });
		if (changed.length === 0) return { ok: false, message: STALE_LINK };
	} catch {
		// The unique index caught a registration that took the address a moment ago.
		return { ok: false, message: 'Another account now uses that address.' };
	}
	await revokeEmailTokens(db, grant.userId, 'verify_email');
	return { ...confirmed, purpose: 'change_email', endedSessions: [] };
}

export async function isEmailTaken(db: Db, email: string, exceptUserId?: string): Promise<boolean> {
	const [row] = await db
		.select({ id: users.id })
		.from(users)
		.where(
			and(
				eq(users.email, normalizeEmail(email)),
				exceptUserId ? ne(users.id, exceptUserId) : undefined
			)
		)
		.limit(1);
	return row !== undefined;
}
