import { and, eq, gt, inArray, isNull, lte } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { pendingRegistrations, userTokens } from '$shared/db/schema';
import { generateSecretToken, hashSecret } from '$lib/server/ids';

export type TokenPurpose = (typeof userTokens.$inferSelect)['purpose'];

const HOUR = 60 * 60 * 1000;
export const TOKEN_LIFETIME_MS: Record<TokenPurpose, number> = {
	verify_email: 24 * HOUR,
	reset_password: HOUR,
	change_email: 24 * HOUR
};

export type EmailToken = { userId: string; email: string; purpose: TokenPurpose };

/**
 * Creates the secret for an emailed link and stores only its hash. Earlier unused links of the
 * same purpose stop working: only the newest email in someone's inbox is live.
 */
export async function issueEmailToken(
	db: Db,
	input: { userId: string; purpose: TokenPurpose; email: string },
	now = Date.now()
): Promise<string> {
	const token = generateSecretToken();
	await db.batch([
		db
			.delete(userTokens)
			.where(
				and(
					eq(userTokens.userId, input.userId),
					eq(userTokens.purpose, input.purpose),
					isNull(userTokens.usedAt)
				)
			),
		db.insert(userTokens).values({
			id: hashSecret(token),
			userId: input.userId,
			purpose: input.purpose,
			email: input.email,
			createdAt: now,
			expiresAt: now + TOKEN_LIFETIME_MS[input.purpose]
		})
	]);
	return token;
}

/**
 * Marks a token used and returns what it grants, or null if it is unknown, expired, already used
 * or meant for none of `purposes`. One conditional UPDATE, so two concurrent uses cannot both win.
 * The token is found by its SHA-256: the lookup's timing tells nothing about the secret itself.
 */
export async function consumeEmailToken(
	db: Db,
	token: string,
	purposes: TokenPurpose[],
	now = Date.now()
): Promise<EmailToken | null> {
	const [row] = await db
		.update(userTokens)
		.set({ usedAt: now })
		.where(
			and(
				eq(userTokens.id, hashSecret(token)),
				inArray(userTokens.purpose, purposes),
				isNull(userTokens.usedAt),
				gt(userTokens.expiresAt, now)
			)
		)
		.returning({ userId: userTokens.userId, email: userTokens.email, purpose: userTokens.purpose });
	return row ?? null;
}

/** After a password change no older reset link may set it again. */
export async function revokeEmailTokens(
	db: Db,
	userId: string,
	purpose: TokenPurpose
): Promise<void> {
	await db
		.delete(userTokens)
		.where(and(eq(userTokens.userId, userId), eq(userTokens.purpose, purpose)));
}

/** A sign-up link works as long as an address confirmation link does. */
export const REGISTRATION_LIFETIME_MS = 24 * HOUR;

export type PendingRegistration = {
	email: string;
	username: string;
	displayName: string;
	passwordHash: string;
};

/**
 * Keeps a sign-up until its emailed link is opened, and returns that link's secret (stored only
 * as its hash). An earlier pending sign-up for the same address stops working, as earlier links
 * do above; and abandoned ones are cleared, so no password hash outlives its link for long.
 */
export async function issuePendingRegistration(
	db: Db,
	input: PendingRegistration,
	now = Date.now()
): Promise<string> {
	const token = generateSecretToken();
	await db.batch([
		db.delete(pendingRegistrations).where(lte(pendingRegistrations.expiresAt, now)),
		db.delete(pendingRegistrations).where(eq(pendingRegistrations.email, input.email)),
		db.insert(pendingRegistrations).values({
			tokenHash: hashSecret(token),
			...input,
			createdAt: now,
			expiresAt: now + REGISTRATION_LIFETIME_MS
		})
	]);
	return token;
}

/**
 * Takes the pending sign-up a link stands for, or null if it is unknown, expired or already
 * taken. One DELETE … RETURNING, so two concurrent uses of a link cannot both get it.
 */
export async function consumePendingRegistration(
	db: Db,
	token: string,
	now = Date.now()
): Promise<PendingRegistration | null> {
	const [row] = await db
		.delete(pendingRegistrations)
		.where(
			and(
				eq(pendingRegistrations.tokenHash, hashSecret(token)),
				gt(pendingRegistrations.expiresAt, now)
			)
		)
		.returning({
			email: pendingRegistrations.email,
			username: pendingRegistrations.username,
			displayName: pendingRegistrations.displayName,
			passwordHash: pendingRegistrations.passwordHash
		});
	return row ?? null;
}
