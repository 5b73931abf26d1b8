import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { oauthAccounts, sessions, users } from '$shared/db/schema';
import { generateId } from '$lib/server/ids';
import { PROVIDER_LABELS, isProviderName, type ProviderName, type ProviderProfile } from './oauth';
import {
	findTaken,
	normalizeEmail,
	usernameKey,
	type RegisterResult
} from '$lib/server/accounts/users';

/** Why a provider sign-in or link did not go through; pages turn these into sentences. */
export type OAuthNotice =
	| 'no-verified-email'
	| 'unverified-collision'
	| 'unverified-account'
	| 'linked-elsewhere'
	| 'provider-already-linked'
	| 'failed'
	| 'cancelled'
	| 'linked'
	| 'unlinked'
	| 'reauthenticated'
	| 'reauth-mismatch';

export function describeOAuthNotice(notice: string | null, provider: string | null): string | null {
	const label = provider && isProviderName(provider) ? PROVIDER_LABELS[provider] : 'the provider';
	switch (notice) {
		case 'no-verified-email':
			return `Your ${label} account has no verified email address. Verify one there, or create an account with a password.`;
		case 'unverified-collision':
			return `A Parley account already uses the email address of your ${label} account, but that address was never confirmed, so it can't be linked automatically. Log in with that account's password (or reset it by email), then link ${label} in Settings.`;
		case 'unverified-account':
			return `Confirm your email address before linking ${label}: open the link we sent you, or send a new one from this page.`;
		case 'linked-elsewhere':
			return `That ${label} account is already linked to another Parley account.`;
		case 'provider-already-linked':
			return `Your account is already linked to a ${label} account. Unlink it first.`;
		case 'failed':
			return `Signing in with ${label} didn't work. Please try again.`;
		case 'cancelled':
			return `Signing in with ${label} was cancelled.`;
		case 'linked':
			return `${label} is now linked: you can sign in with it.`;
		case 'unlinked':
			return `${label} is unlinked.`;
		case 'reauthenticated':
			return `Thanks: ${label} confirmed it's you. You can make the change now.`;
		case 'reauth-mismatch':
			return `That ${label} account is not the one linked to this Parley account.`;
		default:
			return null;
	}
}

export type ProviderSignIn =
	| { kind: 'sign-in'; userId: string }
	| { kind: 'choose-username' }
	| { kind: 'refused'; notice: OAuthNotice };

/**
 * Decides what a provider sign-in means. A known provider account signs its user in. Otherwise the
 * provider's verified address may join an existing account, but only one whose address is
 * verified here too: linking to an unverified account would hand it to whoever registered that
 * address first (pre-account hijacking), so that case is refused with a way forward.
 */
export async function resolveProviderSignIn(
	db: Db,
	profile: ProviderProfile
): Promise<ProviderSignIn> {
	const [linked] = await db
		.select({ userId: oauthAccounts.userId })
		.from(oauthAccounts)
		.innerJoin(users, eq(users.id, oauthAccounts.userId))
		.where(
			and(
				eq(oauthAccounts.provider, profile.provider),
				eq(oauthAccounts.providerUserId, profile.providerUserId),
				isNull(users.deletedAt)
			)
		)
		.limit(1);
	if (linked) return { kind: 'sign-in', userId: linked.userId };
	if (!profile.email) return { kind: 'refused', notice: 'no-verified-email' };

	const [owner] = await db
		.select({ id: users.id, verifiedAt: users.emailVerifiedAt })
		.from(users)
		.where(eq(users.email, normalizeEmail(profile.email)))
		.limit(1);
	if (!owner) return { kind: 'choose-username' };
	if (owner.verifiedAt === null) return { kind: 'refused', notice: 'unverified-collision' };
	const link = await linkProvider(db, owner.id, profile);
	return link.ok ? { kind: 'sign-in', userId: owner.id } : { kind: 'refused', notice: link.notice };
}

/**
 * Links a provider account to a user who proved both identities (signed in, and at the provider),
 * and whose address is proven too. Until then the account may belong to whoever registered the
 * address first without owning it: a link made then would outlive the real owner's reset and
 * keep that squatter a way in.
 */
export async function linkProvider(
	db: Db,
	userId: string,
	profile: ProviderProfile
): Promise<{ ok: true } | { ok: false; notice: OAuthNotice }> {
	const [owner] = await db
		.select({ verifiedAt: users.emailVerifiedAt })
		.from(users)
		.where(and(eq(users.id, userId), isNull(users.deletedAt)))
		.limit(1);
	if (!owner || owner.verifiedAt === null) return { ok: false, notice: 'unverified-account' };
	const existing = await db
		.select({ userId: oauthAccounts.userId, providerUserId: oauthAccounts.providerUserId })
		.from(oauthAccounts)
		.where(
			and(
				eq(oauthAccounts.provider, profile.provider),
				sql`(${oauthAccounts.providerUserId} = ${profile.providerUserId} or ${oauthAccounts.userId} = ${userId})`
			)
		);
	const same = existing.find((row) => row.providerUserId === profile.providerUserId);
	if (same)
		return same.userId === userId ? { ok: true } : { ok: false, notice: 'linked-elsewhere' };
	if (existing.length > 0) return { ok: false, notice: 'provider-already-linked' };
	try {
		await db.insert(oauthAccounts).values({
			provider: profile.provider,
			providerUserId: profile.providerUserId,
			userId,
			email: profile.email,
			createdAt: Date.now()
		});
	} catch {
		// A concurrent link of the same provider account won the primary key.
		return { ok: false, notice: 'linked-elsewhere' };
	}
	return { ok: true };
}

/**
 * A signed-in session proved its user again at a provider: only a provider account linked to that
 * user counts. Stamps the session, which is what `hasRecentProviderAuth` reads.
 */
export async function confirmProviderIdentity(
	db: Db,
	session: { id: string; userId: string },
	profile: ProviderProfile
): Promise<boolean> {
	const [linked] = await db
		.select({ userId: oauthAccounts.userId })
		.from(oauthAccounts)
		.where(
			and(
				eq(oauthAccounts.provider, profile.provider),
				eq(oauthAccounts.providerUserId, profile.providerUserId),
				eq(oauthAccounts.userId, session.userId)
			)
		)
		.limit(1);
	if (!linked) return false;
	await db
		.update(sessions)
		.set({ providerAuthAt: Date.now() })
		.where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId)));
	return true;
}

/**
 * Unlinks a provider, but never the last way in: one conditional DELETE, so two unlinks racing
 * each other can't both pass the check and leave the account without any.
 */
export async function unlinkProvider(
	db: Db,
	userId: string,
	provider: ProviderName
): Promise<boolean> {
	const deleted = await db
		.delete(oauthAccounts)
		.where(
			and(
				eq(oauthAccounts.userId, userId),
				eq(oauthAccounts.provider, provider),
				sql`(exists (select 1 from ${users} where ${users.id} = ${userId} and ${users.passwordHash} is not null)
					or exists (select 1 from ${oauthAccounts} other where other.user_id = ${userId} and other.provider <> ${provider}))`
			)
		)
		.returning({ provider: oauthAccounts.provider });
	return deleted.length > 0;
}

export async function listLinkedProviders(
	db: Db,
	userId: string
): Promise<{ provider: ProviderName; email: string | null; createdAt: number }[]> {
	return db
		.select({
			provider: oauthAccounts.provider,
			email: oauthAccounts.email,
			createdAt: oauthAccounts.createdAt
		})
		.from(oauthAccounts)
		.where(eq(oauthAccounts.userId, userId));
}

/**
 * The account of a first provider sign-in, once its username is chosen. `profile.email` is one the
 * provider verified (see `ProviderProfile`): profiles without one are refused before this.
 */
export async function createUserFromProvider(
	db: Db,
	profile: ProviderProfile & { email: string },
	input: { username: string; displayName: string }
): Promise<RegisterResult> {
	const key = usernameKey(input.username);
	const email = normalizeEmail(profile.email);
	const taken = await findTaken(db, email, input.username);
	if (taken.username) {
		return { ok: false, field: 'username', message: 'That username is taken.' };
	}
	if (taken.email) {
		// The provider verified this address (no profile without one gets here), so the person at
		// the keyboard owns it: telling them their own account exists is a next step, not a leak.
		const label = PROVIDER_LABELS[profile.provider];
		return {
			ok: false,
			field: 'email',
			message: `You already have an account with this address: log in with your password, then link ${label} in Settings.`
		};
	}
	const id = generateId();
	const now = Date.now();
	try {
		await db.batch([
			db.insert(users).values({
				id,
				email,
				// The provider verified it: that is the proof a verification email would ask for.
				emailVerifiedAt: now,
				username: input.username,
				usernameKey: key,
				displayName: input.displayName,
				passwordHash: null,
				createdAt: now
			}),
			db.insert(oauthAccounts).values({
				provider: profile.provider,
				providerUserId: profile.providerUserId,
				userId: id,
				email,
				createdAt: now
			})
		]);
	} catch {
		return { ok: false, field: 'username', message: 'That username or email was just taken.' };
	}
	return { ok: true, userId: id };
}

/** A valid, free username close to the provider's, to prefill the welcome form. */
export async function suggestUsername(db: Db, base: string): Promise<string> {
	let stem = base.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 28);
	if (stem.length < 3) stem = `${stem}user`.slice(0, 28);
	for (const candidate of [stem, ...Array.from({ length: 5 }, () => `${stem}${randomDigits()}`)]) {
		const [taken] = await db
			.select({ id: users.id })
			.from(users)
			.where(eq(users.usernameKey, usernameKey(candidate)))
			.limit(1);
		if (!taken) return candidate;
	}
	return stem;
}

function randomDigits(): string {
	return String(crypto.getRandomValues(new Uint16Array(1))[0]! % 10_000).padStart(4, '0');
}
