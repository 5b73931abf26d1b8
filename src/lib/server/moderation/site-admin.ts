// The site's admins: named in configuration (`SITE_ADMINS`, usernames or email addresses), never in
// the database, so no page or API can make someone one. Anyone else who finds `/admin` sees the
// same 404 as for a page that does not exist: the area is not advertised.
import { error } from '@sveltejs/kit';
import { and, asc, desc, eq, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { auditLog, memberships, reports, rooms, users } from '$shared/db/schema';
import { usernameKey } from '$lib/server/accounts/users';
import { escapeLike } from '$lib/server/rooms/directory';
import { requireSignedIn, type Signed } from '$lib/server/request-context';

/**
 * The configured admins, lower-cased. The value is read as whatever arrived (a `--var`, a
 * `.dev.vars` line, a dashboard setting): anything but a string names no one.
 */
export function siteAdminNames(env: Pick<Env, 'SITE_ADMINS'> | Record<string, unknown>): string[] {
	const value: unknown = (env as Record<string, unknown>).SITE_ADMINS;
	if (typeof value !== 'string') return [];
	return value
		.split(',')
		.map((name) => name.trim().replace(/^@/, '').toLowerCase())
		.filter((name) => name.length > 0);
}

/** Whether this person is one of the site's admins, by username or by email address. */
export function isSiteAdmin(
	env: Pick<Env, 'SITE_ADMINS'> | Record<string, unknown>,
	user: { username: string; email: string; bot?: boolean }
): boolean {
	// A bot shares no one's name, but it never administers anything either.
	if (user.bot) return false;
	const names = siteAdminNames(env);
	if (names.length === 0) return false;
	return names.includes(usernameKey(user.username)) || names.includes(user.email.toLowerCase());
}

/** Every load and action of the admin area starts here: the signed-in admin, or a 404. */
export function requireSiteAdmin(event: Parameters<typeof requireSignedIn>[0]): Signed {
	if (!event.locals.user || !isSiteAdmin(event.platform?.env ?? {}, event.locals.user)) {
		error(404, 'Not found');
	}
	return requireSignedIn(event);
}

// What the admin area lists. Plain queries: the site admin sees every account and room, so none of
// the visibility rules of people search or the directory apply.

/** Rows per list page of the admin area. */
export const ADMIN_LIST_LIMIT = 50;

export type AdminPerson = {
	id: string;
	username: string;
	displayName: string;
	email: string;
	kind: 'person' | 'bot';
	createdAt: number;
	suspendedAt: number | null;
	suspendedReason: string | null;
};

/**
 * Accounts whose username, email address or display name starts with `query` (all of them, newest
 * first, without one); `suspended` keeps only suspended accounts. Deleted accounts are not listed.
 */
export async function searchAccounts(
	db: Db,
	query: string,
	{ suspended = false }: { suspended?: boolean } = {}
): Promise<AdminPerson[]> {
	const q = query.trim().replace(/^@/, '').toLowerCase();
	const prefix = `${escapeLike(q)}%`;
	return db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			email: users.email,
			kind: users.kind,
			createdAt: users.createdAt,
			suspendedAt: users.suspendedAt,
			suspendedReason: users.suspendedReason
		})
		.from(users)
		.where(
			and(
				isNull(users.deletedAt),
				suspended ? isNotNull(users.suspendedAt) : undefined,
				q
					? or(
							sql`${users.usernameKey} LIKE ${prefix} ESCAPE '\\'`,
							sql`${users.email} LIKE ${prefix} ESCAPE '\\'`,
							sql`lower(${users.displayName}) LIKE ${prefix} ESCAPE '\\'`
						)
					: undefined
			)
		)
		.orderBy(desc(users.createdAt), asc(users.id))
		.limit(ADMIN_LIST_LIMIT);
}

/** One account as the admin area shows it; null when there is none (or it is deleted). */
export async function getAccount(db: Db, userId: string): Promise<AdminPerson | null> {
	const [row] = await db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			email: users.email,
			kind: users.kind,
			createdAt: users.createdAt,
			suspendedAt: users.suspendedAt,
			suspendedReason: users.suspendedReason,
			deletedAt: users.deletedAt
		})
		.from(users)
		.where(eq(users.id, userId))
		.limit(1);
	if (!row || row.deletedAt !== null) return null;
	const { deletedAt: _, ...person } = row;
	return person;
}

export type AdminRoom = {
	id: string;
	kind: 'direct' | 'group' | 'public';
	name: string;
	memberCount: number;
	createdAt: number;
	lastMessageAt: number | null;
};

const roomColumns = {
	id: rooms.id,
	kind: rooms.kind,
	name: rooms.name,
	memberCount: rooms.memberCount,
	createdAt: rooms.createdAt,
	lastMessageAt: rooms.lastMessageAt
};

/** Group and public rooms whose name contains `query` (the newest, without one). */
export async function searchRooms(db: Db, query: string): Promise<AdminRoom[]> {
	const q = query.trim().toLowerCase();
	return db
		.select(roomColumns)
		.from(rooms)
		.where(
			and(
				// A direct conversation has no name to search by and is reached through its reports.
				sql`${rooms.kind} <> 'direct'`,
				q ? sql`lower(${rooms.name}) LIKE ${`%${escapeLike(q)}%`} ESCAPE '\\'` : undefined
			)
		)
		.orderBy(desc(rooms.createdAt), asc(rooms.id))
		.limit(ADMIN_LIST_LIMIT);
}

export type AdminRoomDetails = AdminRoom & {
	description: string;
	slowModeSeconds: number;
	members: {
		id: string;
		username: string;
		displayName: string;
		role: 'owner' | 'admin' | 'member';
		kind: 'person' | 'bot';
		timedOutUntil: number | null;
	}[];
};

/** A room with its settings and its members (owners first), or null. */
export async function getRoomForAdmin(db: Db, roomId: string): Promise<AdminRoomDetails | null> {
	const [[room], members] = await db.batch([
		db
			.select({
				...roomColumns,
				description: rooms.description,
				slowModeSeconds: rooms.slowModeSeconds
			})
			.from(rooms)
			.where(eq(rooms.id, roomId))
			.limit(1),
		db
			.select({
				id: users.id,
				username: users.username,
				displayName: users.displayName,
				role: memberships.role,
				kind: users.kind,
				timedOutUntil: memberships.timedOutUntil
			})
			.from(memberships)
			.innerJoin(users, eq(users.id, memberships.userId))
			.where(eq(memberships.roomId, roomId))
			.orderBy(
				sql`CASE ${memberships.role} WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END`,
				asc(sql`lower(${users.displayName})`)
			)
			.limit(500)
	]);
	return room ? { ...room, members } : null;
}

/** The front page's numbers. */
export async function adminCounts(db: Db) {
	const count = sql<number>`count(*)`;
	const [[people], [suspended], [roomCount], [openReports], [entries]] = await db.batch([
		db.select({ n: count }).from(users).where(isNull(users.deletedAt)),
		db
			.select({ n: count })
			.from(users)
			.where(and(isNull(users.deletedAt), isNotNull(users.suspendedAt))),
		db.select({ n: count }).from(rooms),
		db.select({ n: count }).from(reports).where(eq(reports.status, 'open')),
		db.select({ n: count }).from(auditLog)
	]);
	return {
		people: people?.n ?? 0,
		suspended: suspended?.n ?? 0,
		rooms: roomCount?.n ?? 0,
		openReports: openReports?.n ?? 0,
		auditEntries: entries?.n ?? 0
	};
}

export type AuditView = {
	id: string;
	createdAt: number;
	actorRole: 'site_admin' | 'room_admin';
	action: string;
	actor: { id: string; username: string; displayName: string } | null;
	targetKind: 'user' | 'room' | 'message' | 'report';
	targetId: string;
	/** The target's name where it is a person (now, or as the entry kept it). */
	targetName: string | null;
	room: { id: string; name: string } | null;
	reason: string;
	details: Record<string, unknown>;
};

/**
 * Entries of the log with the names of who acted, on whom and where, read in one round trip. A
 * deleted room keeps the name its entry recorded (`details.name`), if any.
 */
export async function describeAudit(
	db: Db,
	entries: (typeof auditLog.$inferSelect)[]
): Promise<AuditView[]> {
	const userIds = [
		...new Set(
			entries.flatMap((e) => [
				...(e.actorId ? [e.actorId] : []),
				...(e.targetKind === 'user' ? [e.targetId] : [])
			])
		)
	];
	const roomIds = [...new Set(entries.flatMap((e) => (e.roomId ? [e.roomId] : [])))];
	const [people, roomRows] = await db.batch([
		db
			.select({ id: users.id, username: users.username, displayName: users.displayName })
			.from(users)
			.where(userIds.length ? inArray(users.id, userIds) : sql`0`),
		db
			.select({ id: rooms.id, name: rooms.name, kind: rooms.kind })
			.from(rooms)
			.where(roomIds.length ? inArray(rooms.id, roomIds) : sql`0`)
	]);
	const person = new Map(people.map((p) => [p.id, p]));
	const room = new Map(roomRows.map((r) => [r.id, r]));
	return entries.map((e) => {
		const details = parseDetails(e.details);
		const target = e.targetKind === 'user' ? person.get(e.targetId) : undefined;
		const where = e.roomId ? room.get(e.roomId) : undefined;
		const keptName = typeof details.name === 'string' ? details.name : null;
		return {
			id: e.id,
			createdAt: e.createdAt,
			actorRole: e.actorRole,
			action: e.action,
			actor: (e.actorId && person.get(e.actorId)) || null,
			targetKind: e.targetKind,
			targetId: e.targetId,
			targetName: target ? `${target.displayName} (@${target.username})` : null,
			room: e.roomId
				? {
						id: e.roomId,
						name: where
							? where.kind === 'direct'
								? 'Direct conversation'
								: where.name
							: `${e.targetKind === 'room' && keptName ? keptName : 'A room'} (deleted)`
					}
				: null,
			reason: e.reason,
			details
		};
	});
}

function parseDetails(json: string): Record<string, unknown> {
	try {
		const value: unknown = JSON.parse(json);
		return typeof value === 'object' && value !== null && !Array.isArray(value)
			? (value as Record<string, unknown>)
			: {};
	} catch {
		return {};
	}
}
