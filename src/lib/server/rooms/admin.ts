// Running a room: its name and description (admins), and deleting it (the owner).
import { eq } from 'drizzle-orm';
import { authorizeRoom } from './authz';
import type { Db } from '$lib/server/db';
import { memberships, rooms } from '$shared/db/schema';
import type { Actor, Done } from '$lib/server/outcome';
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
	await db.update(rooms).set(details).where(eq(rooms.id, roomId));
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

/**
 * Deletes the room with its memberships, bans, invites and history (cascades in D1), then empties
 * the room's object (every socket closed, its unflushed tail and alarm dropped) and tells the
 * members' hubs, so open tabs lose it at once.
 */
export async function deleteRoom(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'delete');
	if (!auth.ok) return auth;
	const [members] = await db.batch([
		db
			.select({ userId: memberships.userId })
			.from(memberships)
			.where(eq(memberships.roomId, roomId)),
		db.delete(rooms).where(eq(rooms.id, roomId))
	]);
	await destroyRoomObject(rt, roomId);
	await Promise.all(
		members.map(({ userId }) =>
			notifyUser(rt, userId, { type: 'membership', roomId, change: 'deleted' })
		)
	);
	return { ok: true };
}
