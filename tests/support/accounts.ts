// People with real accounts (hashed passwords, verified or not) and the development outbox.
import { env } from 'cloudflare:workers';
import { desc, eq } from 'drizzle-orm';
import { getDb } from '$lib/server/db';
import { mailOutbox, users } from '$shared/db/schema';
import { generateId } from '$lib/server/ids';
import { hashPassword } from '$lib/server/auth/password';
import { SESSION_COOKIE, createSession, generateSessionToken } from '$lib/server/auth/session';
import { usernameKey } from '$lib/server/accounts/users';
import { TestBrowser } from './request-event';

export const db = () => getDb(env.DB);

let counter = 0;

export type Member = {
	id: string;
	username: string;
	email: string;
	displayName: string;
	password: string;
};

/** Everyone's password in these tests; hashed once per file, since a real scrypt hash is slow. */
export const PASSWORD = 'everyone keeps a long passphrase';
let passwordHash: Promise<string> | undefined;

/**
 * A person with an account as registration leaves it (`verified` marks the email as confirmed;
 * `password: false` makes an account that only signs in through a provider).
 */
export async function registerPerson(
	name: string,
	{ verified = false, password = true }: { verified?: boolean; password?: boolean } = {}
): Promise<Member> {
	passwordHash ??= hashPassword(PASSWORD);
	const username = `${name}_${++counter}_${Math.random().toString(36).slice(2, 7)}`;
	const person = {
		id: generateId(),
		username,
		email: `${username}@example.test`,
		displayName: name[0]!.toUpperCase() + name.slice(1),
		password: PASSWORD
	};
	await db()
		.insert(users)
		.values({
			id: person.id,
			email: person.email,
			emailVerifiedAt: verified ? Date.now() : null,
			username,
			usernameKey: usernameKey(username),
			displayName: person.displayName,
			passwordHash: password ? await passwordHash : null,
			createdAt: Date.now()
		});
	return person;
}

export async function userRow(id: string) {
	const [row] = await db().select().from(users).where(eq(users.id, id));
	return row!;
}

/** The newest message the development mailer sent to `address`. */
export async function lastMailTo(address: string) {
	const [mail] = await db()
		.select()
		.from(mailOutbox)
		.where(eq(mailOutbox.toAddress, address.toLowerCase()))
		.orderBy(desc(mailOutbox.id))
		.limit(1);
	return mail ?? null;
}

/** The secret in a mailed link (`…#token=…`). */
export function tokenIn(body: string): string {
	const match = /#token=([a-z2-7]+)/.exec(body);
	if (!match) throw new Error(`no link in: ${body}`);
	return match[1]!;
}

/**
 * A browser already signed in as `person`, without going through the login form (whose password
 * check is deliberately slow): the session is made as the login action would make it.
 */
export async function signedInBrowser(
	person: { id: string },
	meta: { userAgent?: string; country?: string } = {}
): Promise<TestBrowser> {
	const browser = new TestBrowser();
	const token = generateSessionToken();
	const session = await createSession(db(), token, person.id, {
		userAgent:
			meta.userAgent ??
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
		country: meta.country ?? null
	});
	browser.jar.for(new URL('https://parley.test/')).set(SESSION_COOKIE, token, {
		path: '/',
		expires: new Date(session.expiresAt)
	});
	return browser;
}
