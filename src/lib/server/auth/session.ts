import { and, desc, eq, ne } from 'drizzle-orm';
import type { Cookies } from '@sveltejs/kit';
import type { Db } from '$lib/server/db';
import { sessions, users } from '$shared/db/schema';
import { generateSecretToken, hashSecret } from '$lib/server/ids';
import { rememberDevice } from './known-devices';
import { pictureUrl } from '$lib/server/files/picture-url';
import { deny, type Done } from '$lib/server/outcome';

export const SESSION_COOKIE = 'parley_session';
const DAY = 24 * 60 * 60 * 1000;
export const SESSION_LIFETIME_MS = 30 * DAY;
/**
 * However often it is used, a session ends this long after it was made: a stolen cookie that
 * keeps being used (sliding) does not work forever.
 */
export const SESSION_ABSOLUTE_LIFETIME_MS = 90 * DAY;
/** A session used within its last half is extended: sliding expiry. */
const RENEW_WITHIN_MS = 15 * DAY;
/** `last_seen_at` is written at most this often, not on every request. */
const LAST_SEEN_RESOLUTION_MS = 5 * 60 * 1000;

export type SessionUser = {
	id: string;
	username: string;
	displayName: string;
	email: string;
	emailVerified: boolean;
	/** The profile picture's URL, if the person has set one. */
	picture?: string | null;
	/** A bot (made by a room's admins; it signs in only with tokens). */
	bot?: boolean;
};

export type Session = {
	id: string;
	userId: string;
	expiresAt: number;
	createdAt: number;
	/** When this session last proved its user at a linked provider, if ever. */
	providerAuthAt: number | null;
};

/**
 * The one rule of a session's validity, for pages and the realtime door alike: neither its
 * sliding expiry nor its absolute lifetime has passed.
 */
export function isSessionLive(session: { expiresAt: number; createdAt: number }, now: number) {
	return now < session.expiresAt && now < session.createdAt + SESSION_ABSOLUTE_LIFETIME_MS;
}

/**
 * Whether a stored session (read with its user) still signs them in: the user exists, is not
 * suspended, and the session is live. Pages ask through `validateSessionToken`; the realtime door
 * asks it of the row its one upgrade statement read. Suspending someone deletes their sessions;
 * this refuses one made in the same moment, which the deletion could not see.
 */
export function sessionHolds(
	row: {
		session: { expiresAt: number; createdAt: number };
		user: { deletedAt: number | null; suspendedAt: number | null };
	},
	now: number
): boolean {
	return (
		row.user.deletedAt === null && row.user.suspendedAt === null && isSessionLive(row.session, now)
	);
}

/** What a suspended person is told when they try to sign in. */
export function suspendedMessage(reason: string | null): string {
	const why = reason?.trim();
	return why
		? `This account has been suspended by the site’s admins. Reason: ${why}`
		: 'This account has been suspended by the site’s admins.';
}

export type SessionValidation =
	| { session: Session; user: SessionUser; renewed: boolean }
	| { session: null; user: null; renewed: false };

export function generateSessionToken(): string {
	return generateSecretToken();
}

export async function createSession(
	db: Db,
	token: string,
	userId: string,
	meta: { userAgent?: string | null; country?: string | null; providerAuth?: boolean } = {}
): Promise<Session> {
	const now = Date.now();
	const session = {
		id: hashSecret(token),
		userId,
		createdAt: now,
		lastSeenAt: now,
		expiresAt: now + SESSION_LIFETIME_MS,
		userAgent: (meta.userAgent ?? '').slice(0, 512),
		country: meta.country ?? null,
		providerAuthAt: meta.providerAuth ? now : null
	};
	await db.insert(sessions).values(session);
	return {
		id: session.id,
		userId,
		expiresAt: session.expiresAt,
		createdAt: now,
		providerAuthAt: session.providerAuthAt
	};
}

type StoredSession = { session: typeof sessions.$inferSelect; user: typeof users.$inferSelect };

async function findSession(db: Db, id: string): Promise<StoredSession | null> {
	const [row] = await db
		.select({ session: sessions, user: users })
		.from(sessions)
		.innerJoin(users, eq(sessions.userId, users.id))
		.where(eq(sessions.id, id))
		.limit(1);
	return row ?? null;
}

function sessionOf({ session, user }: StoredSession, expiresAt: number) {
	return {
		session: {
			id: session.id,
			userId: user.id,
			expiresAt,
			createdAt: session.createdAt,
			providerAuthAt: session.providerAuthAt
		},
		user: sessionUserOf(user)
	};
}

/** Who a stored user is to the code that serves them, however they proved it (session or token). */
export function sessionUserOf(user: typeof users.$inferSelect): SessionUser {
	return {
		id: user.id,
		username: user.username,
		displayName: user.displayName,
		email: user.email,
		emailVerified: user.emailVerifiedAt !== null,
		picture: pictureUrl(user.avatarKey),
		...(user.kind === 'bot' ? { bot: true } : {})
	};
}

/** For pages: checks the session and slides its expiry (the response carries the new cookie). */
export async function validateSessionToken(db: Db, token: string): Promise<SessionValidation> {
	const id = hashSecret(token);
	const row = await findSession(db, id);
	if (!row) return { session: null, user: null, renewed: false };

	const now = Date.now();
	if (!sessionHolds(row, now)) {
		await db.delete(sessions).where(eq(sessions.id, id));
		return { session: null, user: null, renewed: false };
	}
	const slid = Math.min(
		now + SESSION_LIFETIME_MS,
		row.session.createdAt + SESSION_ABSOLUTE_LIFETIME_MS
	);
	const renewed = row.session.expiresAt - now < RENEW_WITHIN_MS && slid > row.session.expiresAt;
	const expiresAt = renewed ? slid : row.session.expiresAt;
	if (renewed || now - row.session.lastSeenAt > LAST_SEEN_RESOLUTION_MS) {
		await db.update(sessions).set({ expiresAt, lastSeenAt: now }).where(eq(sessions.id, id));
	}
	return { ...sessionOf(row, expiresAt), renewed };
}

/**
 * For WebSocket upgrades: the same rule as `validateSessionToken`, without renewing or writing
 * anything. An upgrade's response cannot set a cookie, so a renewal there would leave the D1 row
 * and the browser's cookie disagreeing about when the session ends.
 */
export async function checkSessionToken(
	db: Db,
	token: string
): Promise<{ session: Session; user: SessionUser } | null> {
	const row = await findSession(db, hashSecret(token));
	if (!row || !sessionHolds(row, Date.now())) return null;
	return sessionOf(row, row.session.expiresAt);
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
	await db.delete(sessions).where(eq(sessions.id, sessionId));
}

/** Ends every session of the user; answers which ended, so their open sockets can be closed. */
export async function invalidateAllSessions(db: Db, userId: string): Promise<string[]> {
	const ended = await db
		.delete(sessions)
		.where(eq(sessions.userId, userId))
		.returning({ id: sessions.id });
	return ended.map((s) => s.id);
}

export function setSessionTokenCookie(cookies: Cookies, token: string, expiresAt: number): void {
	cookies.set(SESSION_COOKIE, token, {
		path: '/',
		httpOnly: true,
		secure: true,
		sameSite: 'lax',
		expires: new Date(expiresAt)
	});
}

export function deleteSessionTokenCookie(cookies: Cookies): void {
	cookies.delete(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
}

// Sessions as the account settings show them: listing, revoking, starting one after sign-in.

export type SessionMeta = {
	userAgent: string | null;
	country: string | null;
	/** The sign-in went through a linked provider (see `sessions.providerAuthAt`). */
	providerAuth?: boolean;
};

/** What a session remembers of the device that opened it; `cf` exists only on Cloudflare. */
export function sessionMeta(request: Request, cf?: { country?: unknown }): SessionMeta {
	return {
		userAgent: request.headers.get('user-agent'),
		country: typeof cf?.country === 'string' ? cf.country : null
	};
}

/**
 * Creates a session and hands its token to the browser, which from now on is one this account
 * knows (every sign-in starts here: password, provider, a sign-up link). A suspended account is
 * refused here, whatever proved who it is, with the reason it was given.
 */
export async function startSession(
	db: Db,
	cookies: Cookies,
	userId: string,
	meta: SessionMeta
): Promise<Done<{ session: Session }>> {
	const [user] = await db
		.select({ suspendedAt: users.suspendedAt, reason: users.suspendedReason })
		.from(users)
		.where(eq(users.id, userId))
		.limit(1);
	if (user?.suspendedAt != null) return deny(403, 'forbidden', suspendedMessage(user.reason));
	const token = generateSessionToken();
	const session = await createSession(db, token, userId, meta);
	setSessionTokenCookie(cookies, token, session.expiresAt);
	await rememberDevice(db, cookies, userId);
	return { ok: true, session };
}

export type SessionListing = {
	id: string;
	createdAt: number;
	lastSeenAt: number;
	userAgent: string;
	country: string | null;
};

export async function listSessions(db: Db, userId: string): Promise<SessionListing[]> {
	return db
		.select({
			id: sessions.id,
			createdAt: sessions.createdAt,
			lastSeenAt: sessions.lastSeenAt,
			userAgent: sessions.userAgent,
			country: sessions.country
		})
		.from(sessions)
		.where(eq(sessions.userId, userId))
		.orderBy(desc(sessions.lastSeenAt));
}

/** Ends one of the user's own sessions; another user's session id changes nothing. */
export async function revokeSession(db: Db, userId: string, sessionId: string): Promise<boolean> {
	const deleted = await db
		.delete(sessions)
		.where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
		.returning({ id: sessions.id });
	return deleted.length > 0;
}

export async function invalidateOtherSessions(
	db: Db,
	userId: string,
	keepSessionId: string
): Promise<string[]> {
	const ended = await db
		.delete(sessions)
		.where(and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId)))
		.returning({ id: sessions.id });
	return ended.map((s) => s.id);
}
