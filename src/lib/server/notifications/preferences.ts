// A person's do-not-disturb settings: a daily schedule read in their time zone, and a pause. The
// rule that decides whether they hold is `isQuiet` in shared/notify.ts; this module keeps them.
import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { users } from '$shared/db/schema';
import { NO_QUIET_HOURS, isTimeZone, minutesInZone, type QuietHours } from '$shared/notify';

/** The hour a pause "until tomorrow morning" ends, in the person's time zone. */
export const MORNING_MINUTE = 8 * 60;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MINUTES = 24 * 60;

/** A person's quiet hours as stored; nothing set (or no such person) reads as never quiet. */
export async function getQuietHours(db: Db, userId: string): Promise<QuietHours> {
	const [row] = await db
		.select({
			dndStart: users.dndStart,
			dndEnd: users.dndEnd,
			dndUntil: users.dndUntil,
			timeZone: users.timeZone
		})
		.from(users)
		.where(eq(users.id, userId))
		.limit(1);
	return row ?? NO_QUIET_HOURS;
}

/** `HH:MM` (24-hour, as `<input type="time">` submits it) as minutes after midnight. */
const TimeOfDay = (field: string) =>
	v.pipe(
		v.string(),
		v.trim(),
		v.nonEmpty(`Enter the time ${field}, for example 22:00.`),
		v.regex(
			/^([01]\d|2[0-3]):[0-5]\d$/,
			`Enter the time ${field} as hours and minutes, like 22:00.`
		),
		v.transform((time) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5)))
	);

export const TimeZoneName = v.pipe(
	v.string(),
	v.trim(),
	v.nonEmpty('Choose your time zone.'),
	v.maxLength(64, 'Choose a time zone from the list, like Europe/Paris.'),
	v.check(isTimeZone, 'Choose a time zone from the list, like Europe/Paris.')
);

/** The daily schedule form: from, to, and the zone they are read in. */
export const ScheduleForm = v.pipe(
	v.object({ start: TimeOfDay('it starts'), end: TimeOfDay('it ends'), timeZone: TimeZoneName }),
	v.forward(
		v.check(
			({ start, end }) => start !== end,
			'The end must differ from the start: a schedule that ends when it starts is never on.'
		),
		['end']
	)
);
export type Schedule = v.InferOutput<typeof ScheduleForm>;

/** Keeps a daily schedule (the span may cross midnight) and the zone it is read in. */
export async function setSchedule(db: Db, userId: string, schedule: Schedule): Promise<void> {
	await db
		.update(users)
		.set({ dndStart: schedule.start, dndEnd: schedule.end, timeZone: schedule.timeZone })
		.where(eq(users.id, userId));
}

/** No daily schedule; a pause, if any, still holds. */
export async function clearSchedule(db: Db, userId: string): Promise<void> {
	await db.update(users).set({ dndStart: null, dndEnd: null }).where(eq(users.id, userId));
}

export const PauseForm = v.object({
	pause: v.picklist(['hour', 'morning', 'off'], 'Choose how long to pause notifications.'),
	/** Where "morning" is: the page's zone (the browser's, before any schedule is saved). */
	timeZone: v.optional(v.union([TimeZoneName, v.literal('')]), '')
});
export type Pause = v.InferOutput<typeof PauseForm>['pause'];

/**
 * When a pause chosen at `now` ends: in an hour, or at the next 8:00 in the person's time zone
 * (which is tomorrow's unless it is still night); null to stop pausing.
 */
export function pauseEnd(pause: Pause, now: number, timeZone: string): number | null {
	if (pause === 'off') return null;
	if (pause === 'hour') return now + HOUR_MS;
	const minute = minutesInZone(now, timeZone);
	const wait = (MORNING_MINUTE - minute + DAY_MINUTES) % DAY_MINUTES || DAY_MINUTES;
	let end = now - (now % 60_000) + wait * 60_000;
	// The zone's offset may change overnight (summer time): move by what the clock says then.
	const drift = minutesInZone(end, timeZone) - MORNING_MINUTE;
	if (drift !== 0 && Math.abs(drift) <= 120) end -= drift * 60_000;
	return end;
}

/**
 * Pauses notifications (or stops pausing); answers when the pause ends. "Morning" is read in
 * `timeZone` when given, else in the zone saved with the schedule.
 */
export async function setPause(
	db: Db,
	userId: string,
	pause: Pause,
	options: { now?: number; timeZone?: string } = {}
): Promise<number | null> {
	const { now = Date.now() } = options;
	const timeZone = options.timeZone || (await getQuietHours(db, userId)).timeZone;
	const until = pauseEnd(pause, now, timeZone);
	await db.update(users).set({ dndUntil: until }).where(eq(users.id, userId));
	return until;
}
