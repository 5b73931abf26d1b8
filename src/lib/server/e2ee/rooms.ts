// Which rooms are end-to-end encrypted, and the rules that come with it (docs/e2ee.md): a group is
// made encrypted, a direct conversation can be switched to it by either person, and neither is ever
// switched back. The room object is told first: a room D1 calls encrypted that still took words in
// the clear would break the promise; the other way round only delays the label.
import { eq } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { rooms } from '$shared/db/schema';
import { roomStub } from '$shared/objects';
import { deny, type Actor, type Denial, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { postSystemMessage, type Realtime } from '$lib/server/realtime/effects';
import type { Room } from '$lib/server/rooms/rooms';
import { positiveInteger } from '$lib/server/app-env';

/**
 * The most people an encrypted room holds unless the deployment says otherwise: every commit
 * carries keys for every device, and each device applies every commit, so the cost of a change
 * grows with the group (the bench's `e2ee` scenario measures a group of 100).
 */
export const DEFAULT_E2EE_MAX_MEMBERS = 100;

/** The deployment's limit: `E2EE_MAX_MEMBERS` where it is a positive integer, else the default. */
export function e2eeMaxMembers(env: Partial<Pick<Env, 'E2EE_MAX_MEMBERS'>>): number {
	return positiveInteger(env.E2EE_MAX_MEMBERS) ?? DEFAULT_E2EE_MAX_MEMBERS;
}

export const ENCRYPTION_STARTED = 'turned on end-to-end encryption';

/** Tells the room object it is encrypted from now on (idempotent). */
export function encryptRoomObject(rt: Realtime, roomId: string): Promise<void> {
	return roomStub(rt.rooms, roomId).enableEncryption(roomId);
}

/** Why one more person may not join this room, if it is encrypted and full; otherwise null. */
export function encryptedRoomFull(
	room: Pick<Room, 'encryption' | 'memberCount'>,
	maxMembers: number,
	joining = 1
): Denial | null {
	if (room.encryption !== 'mls' || room.memberCount + joining <= maxMembers) return null;
	return deny(
		409,
		'too_many',
		`An end-to-end encrypted conversation holds at most ${maxMembers} people.`
	);
}

/** Why a bot may not be added to this room, if it is encrypted (a bot cannot read it). */
export function botsRefused(room: Pick<Room, 'encryption'>): Denial | null {
	return room.encryption === 'mls'
		? deny(400, 'bot', 'A bot cannot read an end-to-end encrypted conversation.')
		: null;
}

/**
 * Either person of a direct conversation turns on end-to-end encryption for it: what is sent from
 * now on is readable only on their devices; what was sent before stays as it was. Never undone.
 */
export async function encryptDirectRoom(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string
): Promise<Done> {
	const access = await authorizeRoom(db, actor.id, roomId, 'read');
	if (!access.ok) return access;
	if (access.room.kind !== 'direct') {
		return deny(400, 'bad_input', 'Only a direct conversation can be switched to encryption.');
	}
	if (access.room.encryption === 'mls') return { ok: true };
	await encryptRoomObject(rt, roomId);
	await db.update(rooms).set({ encryption: 'mls' }).where(eq(rooms.id, roomId));
	await postSystemMessage(rt, roomId, actor, `${actor.displayName} ${ENCRYPTION_STARTED}`);
	return { ok: true };
}
