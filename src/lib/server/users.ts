import { eq, or } from 'drizzle-orm';
import type { Db } from './db';
import { users } from './db/schema';
import { generateId } from './ids';
import { hashPassword } from './password';

export type NewUser = { email: string; username: string; displayName: string; password: string };

export type RegisterResult =
	{ ok: true; userId: string } | { ok: false; field: 'email' | 'username'; message: string };

export function usernameKey(username: string): string {
	return username.toLowerCase();
}

export function normalizeEmail(email: string): string {
	return email.trim().toLowerCase();
}

export async function registerUser(db: Db, input: NewUser): Promise<RegisterResult> {
	const email = normalizeEmail(input.email);
	const key = usernameKey(input.username);
	const [taken] = await db
		.select({ email: users.email, usernameKey: users.usernameKey })
		.from(users)
		.where(or(eq(users.email, email), eq(users.usernameKey, key)))
		.limit(1);
	if (taken?.usernameKey === key) {
		return { ok: false, field: 'username', message: 'That username is taken.' };
	}
	if (taken) {
		return { ok: false, field: 'email', message: 'An account with that email already exists.' };
	}
	const id = generateId();
	const passwordHash = await hashPassword(input.password);
	try {
		await db.insert(users).values({
			id,
			email,
			username: input.username,
			usernameKey: key,
			displayName: input.displayName,
			passwordHash,
			createdAt: Date.now()
		});
	} catch {
		// Lost a race with another registration for the same name or address.
		return { ok: false, field: 'username', message: 'That username or email was just taken.' };
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
