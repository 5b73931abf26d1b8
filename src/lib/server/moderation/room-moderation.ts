// A room's owner and admins slow a busy room down (each member one message per so many seconds)
// and time a member out (no sending for a while). The room object enforces both on every send
// (workers/realtime/src/room-moderation.ts); D1 keeps them for the pages. The room is told first:
// a setting D1 shows but the room does not enforce would be a promise broken, the other way round
// only a stale label. Each change is announced in the timeline and recorded in the audit log.
import { and, eq, gt } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { memberships, rooms } from '$shared/db/schema';
import { roomStub } from '$shared/objects';
import { describeDuration } from '$shared/durations';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { checkChange } from '$lib/server/rooms/members';
import { postSystemMessage, type Realtime } from '$lib/server/realtime/effects';
import { auditStatement } from './audit';

/** The slow mode choices, in seconds (0: off). */
export const SLOW_MODE_SECONDS = [0, 5, 10, 30, 60, 300, 900, 3600] as const;

/** How long a time-out lasts, by the choice's name. */
export const TIME_OUT_LENGTHS = {
	'5m': 5 * 60_000,
	'1h': 60 * 60_000,
	'1d': 24 * 60 * 60_000,
	'1w': 7 * 24 * 60 * 60_000
} as const;
export type TimeOutLength = keyof typeof TIME_OUT_LENGTHS;

export const MAX_MODERATION_REASON_LENGTH = 500;

const Reason = v.pipe(
	v.optional(v.string(), ''),
	v.trim(),
	v.maxLength(MAX_MODERATION_REASON_LENGTH, `At most ${MAX_MODERATION_REASON_LENGTH} characters.`)
);

const SlowModeInput = v.object({
	seconds: v.pipe(
		v.union([v.number(), v.string()]),
		v.transform(Number),
		v.check(
			(n) => (SLOW_MODE_SECONDS as readonly number[]).includes(n),
			'Choose one of the slow mode settings.'
		)
	)
});

const TimeOutInput = v.object({
	length: v.picklist(
		Object.keys(TIME_OUT_LENGTHS) as TimeOutLength[],
		'Choose how long the time-out lasts.'
	),
	reason: Reason
});

/** Turns slow mode on (one message per `seconds` for each member) or off (0). */
export async function setSlowMode(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	input: unknown,
	now = Date.now()
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'edit');
	if (!auth.ok) return auth;
	const parsed = v.safeParse(SlowModeInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const seconds = parsed.output.seconds;
	if (seconds === auth.room.slowModeSeconds) return { ok: true };
	await roomStub(rt.rooms, roomId).moderate({ slowModeSeconds: seconds });
	await db.batch([
		db.update(rooms).set({ slowModeSeconds: seconds }).where(eq(rooms.id, roomId)),
		auditStatement(
			db,
			{
				actorId: actor.id,
				actorRole: 'room_admin',
				action: 'room.slow_mode',
				targetKind: 'room',
				targetId: roomId,
				roomId,
				details: { seconds, before: auth.room.slowModeSeconds }
			},
			now
		)
	]);
	await postSystemMessage(
		rt,
		roomId,
		actor,
		seconds === 0
			? `${actor.displayName} turned off slow mode`
			: `${actor.displayName} turned on slow mode: one message every ${describeDuration(seconds * 1000)}`
	);
	return { ok: true };
}

/**
 * Times a member out: they stay in the room and read it, but cannot send until it ends. Whoever
 * may remove a member may time them out; owners and admins are not timed out (demote first).
 */
export async function timeOutMember(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	userId: string,
	input: unknown,
	now = Date.now()
): Promise<Done<{ until: number }>> {
	const checked = await checkChange(db, actor, roomId, userId, 'remove_member', 'remove');
	if (!checked.ok) return checked;
	if (checked.target.role !== 'member') {
		return deny(409, 'bad_target', 'Owners and admins cannot be timed out: demote them first.');
	}
	const parsed = v.safeParse(TimeOutInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const { length, reason } = parsed.output;
	const until = now + TIME_OUT_LENGTHS[length];
	await roomStub(rt.rooms, roomId).moderate({ timeOut: { userId, until } });
	await db.batch([
		db
			.update(memberships)
			.set({ timedOutUntil: until })
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId))),
		auditStatement(
			db,
			{
				actorId: actor.id,
				actorRole: 'room_admin',
				action: 'member.time_out',
				targetKind: 'user',
				targetId: userId,
				roomId,
				reason,
				details: { until, length }
			},
			now
		)
	]);
	await postSystemMessage(
		rt,
		roomId,
		actor,
		`${actor.displayName} timed out ${checked.target.displayName} for ${describeDuration(TIME_OUT_LENGTHS[length])}`
	);
	return { ok: true, until };
}

/** Ends a member's time-out early. Ending one that is not there changes nothing. */
export async function endTimeOut(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	userId: string,
	now = Date.now()
): Promise<Done> {
	const checked = await checkChange(db, actor, roomId, userId, 'remove_member', 'remove');
	if (!checked.ok) return checked;
	if (checked.target.timedOutUntil === null || checked.target.timedOutUntil <= now) {
		return { ok: true };
	}
	await roomStub(rt.rooms, roomId).moderate({ timeOut: { userId, until: null } });
	await db.batch([
		db
			.update(memberships)
			.set({ timedOutUntil: null })
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId))),
		auditStatement(
			db,
			{
				actorId: actor.id,
				actorRole: 'room_admin',
				action: 'member.end_time_out',
				targetKind: 'user',
				targetId: userId,
				roomId
			},
			now
		)
	]);
	return { ok: true };
}

/** The room's members timed out now: their ids, and until when. */
export async function listTimeOuts(
	db: Db,
	roomId: string,
	now = Date.now()
): Promise<Record<string, number>> {
	const rows = await db
		.select({ userId: memberships.userId, until: memberships.timedOutUntil })
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), gt(memberships.timedOutUntil, now)));
	return Object.fromEntries(rows.map((row) => [row.userId, row.until!]));
}
