// The friend graph's queries, for the app's pages and the user hub alike: one row per pair (lower
// id first), `pending` until the other side accepts. Plain drizzle over D1, so both workers build
// their statements from the same pieces.
import { and, eq, or, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { friendships } from './schema';

// Any drizzle client over D1, with the app's schema or without one (the realtime worker's).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type D1Db = DrizzleD1Database<any>;

/** The rows that `userId` is one end of. */
export function friendshipsOf(userId: string) {
	return or(eq(friendships.userLow, userId), eq(friendships.userHigh, userId))!;
}

/** The person at the other end of a friendship row that `userId` is one end of. */
export function otherInFriendship(userId: string) {
	return sql<string>`CASE WHEN ${friendships.userLow} = ${userId} THEN ${friendships.userHigh} ELSE ${friendships.userLow} END`;
}

/** `userId`'s friends' ids, as a subquery (`users.id IN (...)`). */
export function friendIdsOf(userId: string) {
	return sql`SELECT ${otherInFriendship(userId)} FROM ${friendships}
		WHERE ${friendships.status} = 'accepted' AND ${friendshipsOf(userId)}`;
}

export async function listFriendIds(db: D1Db, userId: string): Promise<string[]> {
	const rows = await db
		.select({ id: otherInFriendship(userId) })
		.from(friendships)
		.where(and(eq(friendships.status, 'accepted'), friendshipsOf(userId)));
	return rows.map((row) => row.id);
}

/** Friend requests waiting for `userId`'s answer: the number on the sidebar's People link. */
export async function countIncomingRequests(db: D1Db, userId: string): Promise<number> {
	const [row] = await db
		.select({ n: sql<number>`count(*)` })
		.from(friendships)
		.where(
			and(
				eq(friendships.status, 'pending'),
				sql`${friendships.requestedBy} <> ${userId}`,
				friendshipsOf(userId)
			)
		);
	return row?.n ?? 0;
}
