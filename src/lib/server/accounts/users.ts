import { eq, or } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { users } from '$shared/db/schema';
import {
	consumePendingRegistration,
	issuePendingRegistration
} from '$lib/server/auth/email-tokens';
import { generateId } from '$lib/server/ids';
import { hashPassword } from '$lib/server/auth/password';

export type NewUser = { email: string; username: string; displayName: string; password: string };

/** How a provider sign-up ended (see `createUserFromProvider`). */
export type RegisterResult =
	{ ok: true; userId: string } | { ok: false; field: 'email' | 'username'; message: string };

export function usernameKey(username: string): string {
	return username.toLowerCase();
}

export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

/**
 * Whether an address and a username already belong to accounts (not necessarily the same one).
 * Each caller decides what it may say of it: a sign-up link's holder proved the address, a
 * provider verified it, and a password sign-up must not tell whether it has an account.
 */
export async function findTaken(
	db: Db,
	email: string,
	username: string
): Promise<{ email: boolean; username: boolean }> {
	const key = usernameKey(username);
	const rows = await db
		.select({ email: users.email, usernameKey: users.usernameKey })
		.from(users)
		.where(or(eq(users.email, email), eq(users.usernameKey, key)));
	return {
		email: rows.some((row) => row.email === email),
		username: rows.some((row) => row.usernameKey === key)
	};
}

export type RegistrationStart =
	| { ok: false; field: 'username'; message: string }
	/** The address has an account: its owner is told by email, and nothing else happens. */
	| { ok: true; kind: 'address-taken'; owner: { email: string; displayName: string } }
	/** The address is free: the emailed `token` finishes the sign-up. */
	| { ok: true; kind: 'pending'; email: string; token: string };

/**
 * The first half of a password sign-up. A taken username is said at once (usernames are public
 * profile addresses), but nothing here depends on whether the address has an account: the caller
 * answers the same either way and only the mail differs. The password is hashed on both paths so
 * that the answer takes as long for a taken address as for a free one.
 */
export async function startRegistration(
	db: Db,
	input: NewUser,
	now = Date.now()
): Promise<RegistrationStart> {
	const email = normalizeEmail(input.email);
	const key = usernameKey(input.username);
	const [nameTaken] = await db
		.select({ id: users.id })
		.from(users)
		.where(eq(users.usernameKey, key))
		.limit(1);
	if (nameTaken) return { ok: false, field: 'username', message: 'That username is taken.' };
	const passwordHash = await hashPassword(input.password);
	const [owner] = await db
		.select({ email: users.email, displayName: users.displayName })
		.from(users)
		.where(eq(users.email, email))
		.limit(1);
	if (owner) return { ok: true, kind: 'address-taken', owner };
	const token = await issuePendingRegistration(
		db,
		{ email, username: input.username, displayName: input.displayName, passwordHash },
		now
	);
	return { ok: true, kind: 'pending', email, token };
}

export type RegistrationFinish =
	| { ok: true; userId: string }
	| { ok: false; reason: 'invalid' }
	| { ok: false; reason: 'username-taken'; username: string }
	| { ok: false; reason: 'email-taken'; email: string };

/**
 * Opens an emailed sign-up link: the pending registration is spent whatever happens next, and
 * becomes an account whose address is proven (whoever holds the link read that inbox).
 */
export async function finishRegistration(
	db: Db,
	token: string,
	now = Date.now()
): Promise<RegistrationFinish> {
	const pending = await consumePendingRegistration(db, token, now);
	if (!pending) return { ok: false, reason: 'invalid' };
	const taken = async (): Promise<RegistrationFinish | null> => {
		const found = await findTaken(db, pending.email, pending.username);
		// The address first: its owner's way forward is to log in, whatever the username.
		if (found.email) return { ok: false, reason: 'email-taken', email: pending.email };
		if (found.username) return { ok: false, reason: 'username-taken', username: pending.username };
		return null;
	};
	const before = await taken();
	if (before) return before;
	const id = generateId();
	try {
		await db.insert(users).values({
			id,
			email: pending.email,
			emailVerifiedAt: now,
			username: pending.username,
			usernameKey: usernameKey(pending.username),
			displayName: pending.displayName,
			passwordHash: pending.passwordHash,
			createdAt: now
		});
	} catch (e) {
		// Lost a race with another sign-up for the same name or address since the check above.
		const after = await taken();
		if (after) return after;
		throw e;
	}
	return { ok: true, userId: id };
}

/** Finds a live account by email or username, as typed on the login form. */
export async function findUserByLogin(db: Db, login: string) {
	const value = login.trim();
	const [user] = await db
		.select()
		.from(users)
		.where(
			value.includes('@')
				? eq(users.email, normalizeEmail(value))
				: eq(users.usernameKey, usernameKey(value))
		)
		.limit(1);
	return user && user.deletedAt === null ? user : null;
}
