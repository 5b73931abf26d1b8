// Personal access tokens: what a script or a bot signs in to the public API with. A token is shown
// once, when made; only its SHA-256 is kept, so a leaked table grants nothing.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { apiTokens, memberships, users } from '$shared/db/schema';
import { generateId, generateSecretToken, hashSecret } from '$lib/server/ids';
import { sessionUserOf, type SessionUser } from '$lib/server/auth/session';
import { deny, type Done } from '$lib/server/outcome';
import type { Realtime } from '$lib/server/realtime/effects';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';

/** What a token may do: `read` asks only (GET); `write` also changes what its person may change. */
export type TokenScope = 'read' | 'write';
export const TOKEN_SCOPES: readonly TokenScope[] = ['read', 'write'];

const DAY = 24 * 60 * 60 * 1000;
/** How long a new token lives; `never` is allowed, and settings say so plainly. */
export const TOKEN_LIFETIMES = {
	'7d': 7 * DAY,
	'30d': 30 * DAY,
	'90d': 90 * DAY,
	'1y': 365 * DAY,
	never: null
};
export type TokenLifetime = keyof typeof TOKEN_LIFETIMES;
export const MAX_TOKENS_PER_USER = 50;
export const MAX_TOKEN_NAME_LENGTH = 60;
export const MAX_TOKEN_ROOMS = 50;
/** The prefix every token starts with: it says what the secret is, for people and for scanners. */
export const TOKEN_PREFIX = 'parley_pat_';
/** `last_used_at` is written at most this often, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** A token as its person sees it in settings: never the secret. */
export type TokenSummary = {
	id: string;
	name: string;
	scope: TokenScope;
	/** The rooms it is limited to; null: every room its person is in. */
	rooms: string[] | null;
	createdAt: number;
	expiresAt: number | null;
	lastUsedAt: number | null;
};

/** The token a request signed in with, as the API's checks need it. */
export type TokenGrant = { id: string; scope: TokenScope; rooms: ReadonlySet<string> | null };

type TokenRow = typeof apiTokens.$inferSelect;

function summaryOf(row: TokenRow): TokenSummary {
	return {
		id: row.id,
		name: row.name,
		scope: row.scope,
		rooms: roomsOf(row),
		createdAt: row.createdAt,
		expiresAt: row.expiresAt,
		lastUsedAt: row.lastUsedAt
	};
}

function roomsOf(row: TokenRow): string[] | null {
	return row.rooms === null ? null : (JSON.parse(row.rooms) as string[]);
}

export type NewToken = {
	name: string;
	scope: TokenScope;
	lifetime: TokenLifetime;
	/** Rooms to limit it to (the person's own); none or empty: every room. */
	rooms?: string[];
};

/**
 * Makes a token for the person and answers it with its secret, the only time it is ever shown.
 * The rooms it is limited to must be rooms the person is in now.
 */
export async function createToken(
	db: Db,
	userId: string,
	input: NewToken,
	now = Date.now()
): Promise<Done<{ token: string; summary: TokenSummary }>> {
	const name = input.name.trim();
	if (!name || name.length > MAX_TOKEN_NAME_LENGTH) {
		return deny(400, 'bad_input', `Name the token (at most ${MAX_TOKEN_NAME_LENGTH} characters).`);
	}
	const rooms = [...new Set(input.rooms ?? [])];
	if (rooms.length > MAX_TOKEN_ROOMS) {
		return deny(400, 'bad_input', `A token can be limited to at most ${MAX_TOKEN_ROOMS} rooms.`);
	}
	const [counted] = await db
		.select({ count: sql<number>`count(*)` })
		.from(apiTokens)
		.where(eq(apiTokens.userId, userId));
	if ((counted?.count ?? 0) >= MAX_TOKENS_PER_USER) {
		return deny(409, 'too_many', `You have ${MAX_TOKENS_PER_USER} tokens; revoke one first.`);
	}
	if (rooms.length > 0) {
		const mine = await db
			.select({ roomId: memberships.roomId })
			.from(memberships)
			.where(and(eq(memberships.userId, userId), inArray(memberships.roomId, rooms)));
		if (mine.length !== rooms.length) {
			return deny(400, 'bad_input', 'A token can be limited only to rooms you are in.');
		}
	}
	const token = TOKEN_PREFIX + generateSecretToken();
	const lifetime = TOKEN_LIFETIMES[input.lifetime];
	const row: TokenRow = {
		id: generateId(),
		userId,
		name,
		tokenHash: hashSecret(token),
		scope: input.scope,
		rooms: rooms.length > 0 ? JSON.stringify(rooms) : null,
		createdAt: now,
		expiresAt: lifetime === null ? null : now + lifetime,
		lastUsedAt: null
	};
	await db.insert(apiTokens).values(row);
	return { ok: true, token, summary: summaryOf(row) };
}

/** The person's tokens, newest first, expired ones included (settings mark them). */
export async function listTokens(db: Db, userId: string): Promise<TokenSummary[]> {
	const rows = await db
		.select()
		.from(apiTokens)
		.where(eq(apiTokens.userId, userId))
		.orderBy(desc(apiTokens.createdAt));
	return rows.map(summaryOf);
}

/**
 * What a token's sockets carry where a session's carry its id, so that revoking the token closes
 * exactly its sockets (`closeSessionSockets`). Session ids are hex, so the two never meet.
 */
export function tokenSessionId(tokenId: string): string {
	return `token:${tokenId}`;
}

/**
 * Revokes one of the person's tokens: from now on it signs nobody in, and the room sockets it has
 * open close at once (a socket is authenticated only when it opens).
 */
export async function revokeToken(
	db: Db,
	rt: Realtime,
	userId: string,
	tokenId: string
): Promise<Done> {
	const gone = await db
		.delete(apiTokens)
		.where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId)))
		.returning({ id: apiTokens.id });
	if (gone.length === 0) return deny(404, 'not_found', 'No such token.');
	await closeSessionSockets(db, rt, userId, [tokenSessionId(tokenId)]);
	return { ok: true };
}

/**
 * Who a bearer token signs in, if anyone: a token that exists, has not expired, and whose person
 * still has an account and is not suspended (their tokens work again once unsuspended). Notes its
 * use (at most once a minute).
 */
export async function authenticateToken(
	db: Db,
	token: string,
	now = Date.now()
): Promise<{ user: SessionUser; grant: TokenGrant } | null> {
	if (!token.startsWith(TOKEN_PREFIX)) return null;
	const [row] = await db
		.select({ token: apiTokens, user: users })
		.from(apiTokens)
		.innerJoin(users, eq(apiTokens.userId, users.id))
		.where(eq(apiTokens.tokenHash, hashSecret(token)))
		.limit(1);
	if (!row || row.user.deletedAt !== null || row.user.suspendedAt !== null) return null;
	if (row.token.expiresAt !== null && row.token.expiresAt <= now) return null;
	if (row.token.lastUsedAt === null || now - row.token.lastUsedAt > LAST_USED_RESOLUTION_MS) {
		await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.token.id));
	}
	const rooms = roomsOf(row.token);
	return {
		user: sessionUserOf(row.user),
		grant: { id: row.token.id, scope: row.token.scope, rooms: rooms && new Set(rooms) }
	};
}
