// The notifications inbox's shared queries, for the app's pages and the user hub alike (see
// `notifications` in the schema). Plain drizzle over D1, as the friend graph's.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { blocks, memberships, notifications } from './schema';

// Any drizzle client over D1, with the app's schema or without one (the realtime worker's).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type D1Db = DrizzleD1Database<any>;

/** How many items of the person's inbox are unread (the bell's count): the partial index's range. */
export async function countUnreadNotifications(db: D1Db, userId: string): Promise<number> {
	const [row] = await db
		.select({ n: sql<number>`count(*)` })
		.from(notifications)
		.where(and(eq(notifications.userId, userId), isNull(notifications.readAt), stillShown()));
	return row?.n ?? 0;
}

/**
 * The inbox items their person may still see, so the bell never counts what the list hides: an
 * item of a room is shown while they are a member of it (not after leaving, removal or a ban), and
 * nothing is shown about someone with a block between them, either way.
 */
export function stillShown() {
	const owner = notifications.userId;
	return sql`(${notifications.roomId} IS NULL OR EXISTS (SELECT 1 FROM ${memberships}
			WHERE ${memberships.roomId} = ${notifications.roomId} AND ${memberships.userId} = ${owner}))
		AND NOT EXISTS (SELECT 1 FROM ${blocks} WHERE
			(${blocks.blockerId} = ${owner} AND ${blocks.blockedId} = ${notifications.actorId})
			OR (${blocks.blockerId} = ${notifications.actorId} AND ${blocks.blockedId} = ${owner}))`;
}

/** Unread inbox items per person, for these people, as the bell counts them (one statement). */
export async function countUnreadByUser(db: D1Db, userIds: string[]): Promise<Map<string, number>> {
	const rows = await db
		.select({ userId: notifications.userId, n: sql<number>`count(*)` })
		.from(notifications)
		.where(and(inArray(notifications.userId, userIds), isNull(notifications.readAt), stillShown()))
		.groupBy(notifications.userId);
	return new Map(rows.map((row) => [row.userId, row.n]));
}
