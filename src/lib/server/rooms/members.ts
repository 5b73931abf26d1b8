// Who is in a room and in what role: join, add, remove, ban, promote, demote, transfer, leave.
// Every change is authorized by authz, written to D1 first, then shown in the room's timeline and
// enforced on live sockets.
import { DEFAULT_E2EE_MAX_MEMBERS, encryptedRoomFull } from '$lib/server/e2ee/rooms';
import { and, asc, eq, gt, sql, type SQLWrapper } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import { authorizeRoom, decideMemberChange, loadPersonAccess, type MemberChange } from './authz';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import type { Db } from '$lib/server/db';
import { memberships, roomBans, users } from '$shared/db/schema';
import { grantMembership, syncMemberCount, type Membership, type Role } from './rooms';
import {
	announceMember,
	applyRole,
	disconnectFromRoom,
	notifyUser,
	postSystemMessage,
	type Realtime
} from '$lib/server/realtime/effects';
import { usernameKey } from '$lib/server/accounts/users';
import { addToInbox } from '$lib/server/notifications/inbox';
import { auditStatement, recordAudit, type AuditEntry } from '$lib/server/moderation/audit';

/** The audit entry of a room owner's or admin's change to a member (who, to whom, where). */
function memberAudit(
	actor: Actor,
	roomId: string,
	targetId: string,
	action: string,
	details: Record<string, unknown> = {}
): AuditEntry {
	return {
		actorId: actor.id,
		actorRole: 'room_admin',
		action,
		targetKind: 'user',
		targetId,
		roomId,
		details
	};
}

export type Member = {
	id: string;
	username: string;
	displayName: string;
	role: Role;
	joinedAt: number;
	/** Bots show as bots in the member list. */
	kind: 'person' | 'bot';
};

/** A role's place in the member list: owners first, then admins, then members. */
const roleOrder = (role: SQLWrapper | Role) =>
	sql`CASE ${role} WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END`;
const ROLE_ORDER = roleOrder(memberships.role);

/** Beyond this the member list shows the first ones; presence still covers everyone online. */
export const MEMBER_LIST_LIMIT = 500;

/** A member the list pages on from: the last one of the page before. */
export type MemberCursor = Pick<Member, 'id' | 'role' | 'displayName'>;

/**
 * Who belongs to a room: its member list, mentions and "seen by" names. `after` continues the
 * list after that member (pages by cursor, for the API), in the same order.
 */
export async function listMembers(
	db: Db,
	roomId: string,
	{ after, limit = MEMBER_LIST_LIMIT }: { after?: MemberCursor; limit?: number } = {}
): Promise<Member[]> {
	const name = sql`lower(${users.displayName})`;
	// The id breaks ties between equal names, so a cursor never skips or repeats anyone.
	return db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			role: memberships.role,
			joinedAt: memberships.joinedAt,
			kind: users.kind
		})
		.from(memberships)
		.innerJoin(users, eq(users.id, memberships.userId))
		.where(
			and(
				eq(memberships.roomId, roomId),
				after &&
					sql`(${ROLE_ORDER}, ${name}, ${users.id}) > (${roleOrder(after.role)}, lower(${after.displayName}), ${after.id})`
			)
		)
		.orderBy(ROLE_ORDER, asc(name), asc(users.id))
		.limit(limit);
}

/** The people banned from a room, by username; `after` continues after that username. */
export async function listBans(
	db: Db,
	roomId: string,
	{ after, limit }: { after?: string; limit?: number } = {}
) {
	const query = db
		.select({ id: users.id, username: users.username, displayName: users.displayName })
		.from(roomBans)
		.innerJoin(users, eq(users.id, roomBans.userId))
		.where(
			and(
				eq(roomBans.roomId, roomId),
				after === undefined ? undefined : gt(users.usernameKey, usernameKey(after))
			)
		)
		.orderBy(asc(users.usernameKey));
	return limit === undefined ? query : query.limit(limit);
}

/**
 * Public rooms: anyone signed in and not banned joins freely. Joining twice changes nothing.
 * Joins and leaves of public rooms stay out of the timeline: in a big room they would drown the
 * conversation (a burst of joins must not become a burst of messages).
 */
export async function joinPublicRoom(
	db: Db,
	actor: Pick<Actor, 'id'>,
	roomId: string,
	e2eeMax = DEFAULT_E2EE_MAX_MEMBERS
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'join');
	if (!auth.ok) return auth;
	if (auth.membership) return { ok: true };
	const full = encryptedRoomFull(auth.room, e2eeMax);
	if (full) return full;
	await grantMembership(db, roomId, actor.id);
	return { ok: true };
}

/** Admins add their friends by username; anyone else gets an invite link. */
export async function addMember(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	username: string,
	e2eeMax = DEFAULT_E2EE_MAX_MEMBERS
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'add_member');
	if (!auth.ok) return auth;
	const [person] = await db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			kind: users.kind,
			deletedAt: users.deletedAt
		})
		.from(users)
		.where(eq(users.usernameKey, usernameKey(username.trim().replace(/^@/, ''))))
		.limit(1);
	if (!person || person.deletedAt !== null) {
		return deny(404, 'bad_target', `No one is called "${username}".`);
	}
	if (person.kind === 'bot') {
		return deny(
			400,
			'bot',
			`${person.displayName} is a bot: it stays in the room it was made for.`
		);
	}
	const [access, banned, existing] = await Promise.all([
		loadPersonAccess(db, actor.id, person.id),
		isBanned(db, roomId, person.id),
		memberOf(db, roomId, person.id)
	]);
	if (access.blockedByThem) return deny(404, 'bad_target', `No one is called "${username}".`);
	if (access.blockedByMe) return deny(403, 'blocked', 'You blocked this person.');
	if (existing) return deny(409, 'bad_target', `${person.displayName} is already a member.`);
	if (banned) return deny(409, 'banned', `${person.displayName} is banned: unban them first.`);
	if (access.friendship?.status !== 'accepted') {
		return deny(403, 'not_friends', 'You can add only your friends; send others an invite link.');
	}
	const full = encryptedRoomFull(auth.room, e2eeMax);
	if (full) return full;
	await grantMembership(db, roomId, person.id);
	await Promise.all([
		postSystemMessage(rt, roomId, actor, `${actor.displayName} added ${person.displayName}`),
		announceMember(rt, roomId, {
			userId: person.id,
			name: person.displayName,
			username: person.username
		}),
		notifyUser(rt, person.id, { type: 'membership', roomId, change: 'added' }),
		addToInbox(db, rt, { kind: 'group_added', userId: person.id, actorId: actor.id, roomId })
	]);
	return { ok: true };
}

export async function removeMember(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	targetId: string
): Promise<Done> {
	const checked = await checkChange(db, actor, roomId, targetId, 'remove_member', 'remove');
	if (!checked.ok) return checked;
	return dropMember(db, rt, actor, roomId, targetId, {
		change: 'removed',
		line: `${actor.displayName} removed ${checked.target.displayName}`,
		also: [
			auditStatement(
				db,
				memberAudit(actor, roomId, targetId, 'member.remove', {
					name: checked.target.displayName
				})
			)
		]
	});
}

export async function banMember(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	targetId: string
): Promise<Done> {
	const checked = await checkChange(db, actor, roomId, targetId, 'ban', 'ban');
	if (!checked.ok) return checked;
	return dropMember(db, rt, actor, roomId, targetId, {
		change: 'banned',
		line: `${actor.displayName} banned ${checked.target.displayName}`,
		also: [
			db
				.insert(roomBans)
				.values({ roomId, userId: targetId, bannedBy: actor.id, createdAt: Date.now() })
				.onConflictDoNothing(),
			auditStatement(
				db,
				memberAudit(actor, roomId, targetId, 'member.ban', { name: checked.target.displayName })
			)
		]
	});
}

export async function unbanMember(
	db: Db,
	actor: Actor,
	roomId: string,
	targetId: string
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'ban');
	if (!auth.ok) return auth;
	const removed = await db
		.delete(roomBans)
		.where(and(eq(roomBans.roomId, roomId), eq(roomBans.userId, targetId)))
		.returning({ userId: roomBans.userId });
	if (removed.length === 0) return deny(404, 'bad_target', 'That person is not banned here.');
	await recordAudit(db, memberAudit(actor, roomId, targetId, 'member.unban'));
	return { ok: true };
}

export async function setMemberRole(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	targetId: string,
	role: 'admin' | 'member'
): Promise<Done> {
	const change = role === 'admin' ? 'promote' : 'demote';
	const checked = await checkChange(db, actor, roomId, targetId, 'set_role', change);
	if (!checked.ok) return checked;
	const name = checked.target.displayName;
	return assignRoles(
		db,
		rt,
		actor,
		roomId,
		[[targetId, role]],
		role === 'admin'
			? `${actor.displayName} made ${name} an admin`
			: `${actor.displayName} made ${name} a member`,
		memberAudit(actor, roomId, targetId, 'member.set_role', { role, name })
	);
}

/** The owner hands the room over and stays on as an admin. */
export async function transferOwnership(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	targetId: string
): Promise<Done> {
	const checked = await checkChange(db, actor, roomId, targetId, 'transfer', 'transfer');
	if (!checked.ok) return checked;
	return assignRoles(
		db,
		rt,
		actor,
		roomId,
		[
			[targetId, 'owner'],
			[actor.id, 'admin']
		],
		`${actor.displayName} made ${checked.target.displayName} the owner`,
		memberAudit(actor, roomId, targetId, 'member.transfer_ownership', {
			name: checked.target.displayName
		})
	);
}

export async function leaveRoom(db: Db, rt: Realtime, actor: Actor, roomId: string): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'leave');
	if (!auth.ok) return auth;
	// The leaver's other tabs lose the room too.
	return dropMember(db, rt, actor, roomId, actor.id, {
		change: 'left',
		line: auth.room.kind === 'group' ? `${actor.displayName} left` : null
	});
}

/**
 * Takes someone out of the room, however they go: the membership is deleted (with `also` in the
 * same batch) and the count kept, their open sockets close at once (invariant 6), then the
 * timeline line, if any (`actor`'s), and their hub hear of it.
 */
async function dropMember(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	userId: string,
	how: {
		change: 'removed' | 'banned' | 'left';
		line: string | null;
		also?: BatchItem<'sqlite'>[];
	}
): Promise<Done> {
	const statements: [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]] = [
		deleteMembership(db, roomId, userId),
		...(how.also ?? []),
		syncMemberCount(db, roomId)
	];
	await db.batch(statements);
	await disconnectFromRoom(rt, roomId, userId);
	await Promise.all([
		how.line === null
			? null
			: postSystemMessage(rt, roomId, actor, how.line, { left: actor.id === userId }),
		notifyUser(rt, userId, { type: 'membership', roomId, change: how.change })
	]);
	return { ok: true };
}

/**
 * Gives members new roles in one batch (with its audit entry), applies them to their open sockets
 * at once, and records the change in the timeline.
 */
async function assignRoles(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	roles: [[string, Role], ...[string, Role][]],
	line: string,
	audit: AuditEntry
): Promise<Done> {
	const update = ([userId, role]: [string, Role]) =>
		db
			.update(memberships)
			.set({ role })
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)));
	const [head, ...tail] = roles;
	await db.batch([update(head), ...tail.map(update), auditStatement(db, audit)]);
	await Promise.all(roles.map(([userId, role]) => applyRole(rt, roomId, userId, role)));
	await postSystemMessage(rt, roomId, actor, line);
	return { ok: true };
}

export type Checked = Done<{ target: Membership & { displayName: string } }>;

export async function checkChange(
	db: Db,
	actor: Actor,
	roomId: string,
	targetId: string,
	action: 'remove_member' | 'ban' | 'set_role' | 'transfer',
	change: MemberChange
): Promise<Checked> {
	const auth = await authorizeRoom(db, actor.id, roomId, action);
	if (!auth.ok) return auth;
	const [[target], [owners]] = await db.batch([
		db
			.select({ membership: memberships, displayName: users.displayName })
			.from(memberships)
			.innerJoin(users, eq(users.id, memberships.userId))
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, targetId)))
			.limit(1),
		db
			.select({ n: sql<number>`count(*)` })
			.from(memberships)
			.where(and(eq(memberships.roomId, roomId), eq(memberships.role, 'owner')))
	]);
	const decision = decideMemberChange(
		auth.membership!,
		target?.membership ?? null,
		change,
		owners?.n ?? 0
	);
	if (!decision.ok) return decision;
	return { ok: true, target: { ...target!.membership, displayName: target!.displayName } };
}

function deleteMembership(db: Db, roomId: string, userId: string) {
	return db
		.delete(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)));
}

async function isBanned(db: Db, roomId: string, userId: string): Promise<boolean> {
	const rows = await db
		.select({ userId: roomBans.userId })
		.from(roomBans)
		.where(and(eq(roomBans.roomId, roomId), eq(roomBans.userId, userId)))
		.limit(1);
	return rows.length > 0;
}

async function memberOf(db: Db, roomId: string, userId: string): Promise<boolean> {
	const rows = await db
		.select({ userId: memberships.userId })
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
		.limit(1);
	return rows.length > 0;
}
