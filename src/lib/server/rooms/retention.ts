// How long a room's messages live. A group or public room's owner and admins choose to keep them
// (the default) or to delete those older than a day to a year; in a direct conversation either
// person turns on disappearing messages. The room object expires them
// (workers/realtime/src/retention.ts), told first, as with every rule it enforces; D1 keeps the
// setting for the pages. A change is announced in the timeline, so both people in a direct
// conversation see it, and a group's is audited.
import { eq } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { rooms } from '$shared/db/schema';
import { roomStub } from '$shared/objects';
import { describeDuration } from '$shared/durations';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { postSystemMessage, type Realtime } from '$lib/server/realtime/effects';
import { auditStatement } from '$lib/server/moderation/audit';

const DAY = 86_400;

/** A group's choices, in seconds (null: keep messages). */
export const ROOM_RETENTION = [null, DAY, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY] as const;
/** A direct conversation's disappearing messages, in seconds (null: off). */
export const DISAPPEARING = [null, 30, 5 * 60, 60 * 60, DAY, 7 * DAY] as const;

/** The choices for a room of this kind. */
export function retentionChoices(kind: 'direct' | 'group' | 'public'): readonly (number | null)[] {
	return kind === 'direct' ? DISAPPEARING : ROOM_RETENTION;
}

/** A form's value ("" or "off" for none, else seconds) as a choice, or undefined if it is none. */
export function parseRetention(value: string): number | null | undefined {
	if (value === '' || value === 'off') return null;
	return /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

export async function setRetention(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	seconds: number | null | undefined,
	now = Date.now()
): Promise<Done> {
	const probe = await authorizeRoom(db, actor.id, roomId, 'read');
	if (!probe.ok) return probe;
	const direct = probe.room.kind === 'direct';
	// Either person in a direct conversation; a room's owner and admins elsewhere.
	const auth = direct ? probe : await authorizeRoom(db, actor.id, roomId, 'edit');
	if (!auth.ok) return auth;
	if (seconds === undefined || !retentionChoices(auth.room.kind).includes(seconds)) {
		return deny(400, 'bad_input', 'Choose one of the settings offered.');
	}
	if (seconds === auth.room.retentionSeconds) return { ok: true };
	await roomStub(rt.rooms, roomId).setRetention(seconds);
	const update = db.update(rooms).set({ retentionSeconds: seconds }).where(eq(rooms.id, roomId));
	if (direct) await update;
	else {
		await db.batch([
			update,
			auditStatement(
				db,
				{
					actorId: actor.id,
					actorRole: 'room_admin',
					action: 'room.retention',
					targetKind: 'room',
					targetId: roomId,
					roomId,
					details: { seconds, before: auth.room.retentionSeconds }
				},
				now
			)
		]);
	}
	await postSystemMessage(rt, roomId, actor, retentionLine(actor.displayName, seconds, direct));
	return { ok: true };
}

function retentionLine(who: string, seconds: number | null, direct: boolean): string {
	if (direct) {
		return seconds === null
			? `${who} turned off disappearing messages`
			: `${who} turned on disappearing messages: new and old messages disappear ${describeDuration(seconds * 1000)} after they are sent`;
	}
	return seconds === null
		? `${who} set this room to keep its messages`
		: `${who} set this room to delete messages ${describeDuration(seconds * 1000)} after they are sent`;
}
