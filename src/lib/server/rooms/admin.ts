// Running a room: its name and description (admins), and deleting it (the owner, or a site admin).
import { eq } from 'drizzle-orm';
import { authorizeRoom } from './authz';
import type { Db } from '$lib/server/db';
import { memberships, rooms } from '$shared/db/schema';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { auditStatement, type AuditEntry } from '$lib/server/moderation/audit';
import {
	destroyRoomObject,
	notifyUser,
	postSystemMessage,
	type Realtime
} from '$lib/server/realtime/effects';

export const MAX_DESCRIPTION_LENGTH = 500;

export async function updateRoomDetails(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	details: { name: string; description: string }
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'edit');
	if (!auth.ok) return auth;
	const renamed = details.name !== auth.room.name;
	const described = details.description !== auth.room.description;
	if (!renamed && !described) return { ok: true };
	await db.batch([
		db.update(rooms).set(details).where(eq(rooms.id, roomId)),
		auditStatement(db, {
			actorId: actor.id,
			actorRole: 'room_admin',
			action: 'room.edit',
			targetKind: 'room',
			targetId: roomId,
			roomId,
			details: {
				...(renamed ? { name: details.name, previousName: auth.room.name } : {}),
				...(described ? { description: true } : {})
			}
		})
	]);
	if (renamed) {
		await postSystemMessage(
			rt,
			roomId,
			actor,
			`${actor.displayName} renamed the room to “${details.name}”`
		);
	}
	if (described) {
		await postSystemMessage(rt, roomId, actor, `${actor.displayName} changed the description`);
	}
	return { ok: true };
}

/** The owner deletes their room (see `destroyRoom`). */
export async function deleteRoom(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'delete');
	if (!auth.ok) return auth;
	await destroyRoom(db, rt, roomId, {
		actorId: actor.id,
		actorRole: 'room_admin',
		action: 'room.delete',
		targetKind: 'room',
		targetId: roomId,
		roomId,
		details: { name: auth.room.name, kind: auth.room.kind }
	});
	return { ok: true };
}

/**
 * A site admin deletes any room, belonging to it or not, with a reason for the audit log. The
 * caller has checked that they are a site admin (`requireSiteAdmin`): no room rule grants this.
 */
export async function deleteRoomAsSiteAdmin(
	db: Db,
	rt: Realtime,
	admin: Actor,
	roomId: string,
	reason: string
): Promise<Done> {
	const [room] = await db
		.select({ name: rooms.name, kind: rooms.kind })
		.from(rooms)
		.where(eq(rooms.id, roomId))
		.limit(1);
	if (!room) return deny(404, 'not_found', 'There is no such room.');
	await destroyRoom(db, rt, roomId, {
		actorId: admin.id,
		actorRole: 'site_admin',
		action: 'room.delete',
		targetKind: 'room',
		targetId: roomId,
		roomId,
		reason,
		details: { name: room.name, kind: room.kind }
	});
	return { ok: true };
}

/**
 * Deletes the room with its memberships, bans, invites and history (cascades in D1), recording
 * who did it in the same batch, then empties the room's object (every socket closed, its
 * unflushed tail and alarm dropped) and tells the members' hubs, so open tabs lose it at once.
 */
async function destroyRoom(db: Db, rt: Realtime, roomId: string, audit: AuditEntry) {
	const [members] = await db.batch([
		db
			.select({ userId: memberships.userId })
			.from(memberships)
			.where(eq(memberships.roomId, roomId)),
		db.delete(rooms).where(eq(rooms.id, roomId)),
		auditStatement(db, audit)
	]);
	await destroyRoomObject(rt, roomId);
	await Promise.all(
		members.map(({ userId }) =>
			notifyUser(rt, userId, { type: 'membership', roomId, change: 'deleted' })
		)
	);
}
