import { describe, expect, it } from 'vitest';
import { parseForm } from '$lib/server/forms';
import {
	PauseForm,
	ScheduleForm,
	clearSchedule,
	getQuietHours,
	pauseEnd,
	setPause,
	setSchedule
} from '$lib/server/notifications/preferences';
import { isQuiet } from '$shared/notify';
import { db, seedUser } from '../../../helpers';

function form(fields: Record<string, string>): FormData {
	const data = new FormData();
	for (const [key, value] of Object.entries(fields)) data.set(key, value);
	return data;
}

const HOUR = 60 * 60 * 1000;

describe('the do-not-disturb schedule', () => {
	it('is kept as minutes in the chosen zone, may cross midnight, and holds inside its span', async () => {
		const alice = await seedUser('alice');
		expect(await getQuietHours(db(), alice.id)).toEqual({
			dndStart: null,
			dndEnd: null,
			dndUntil: null,
			timeZone: 'UTC'
		});

		const parsed = parseForm(
			ScheduleForm,
			form({ start: '22:30', end: '07:00', timeZone: 'Asia/Tokyo' })
		);
		if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
		await setSchedule(db(), alice.id, parsed.data);
		const quiet = await getQuietHours(db(), alice.id);
		expect(quiet).toEqual({
			dndStart: 22 * 60 + 30,
			dndEnd: 7 * 60,
			dndUntil: null,
			timeZone: 'Asia/Tokyo'
		});
		// Tokyo is UTC+9 all year: 23:00 there is 14:00 UTC, 08:00 there is 23:00 UTC.
		expect(isQuiet(quiet, Date.UTC(2026, 0, 5, 14, 0))).toBe(true);
		expect(isQuiet(quiet, Date.UTC(2026, 0, 5, 21, 59))).toBe(true);
		expect(isQuiet(quiet, Date.UTC(2026, 0, 5, 23, 0))).toBe(false);

		await clearSchedule(db(), alice.id);
		expect(await getQuietHours(db(), alice.id)).toMatchObject({
			dndStart: null,
			dndEnd: null,
			timeZone: 'Asia/Tokyo'
		});
	});

	it('refuses bad times and unknown zones, field by field, changing nothing', async () => {
		const bad = parseForm(
			ScheduleForm,
			form({ start: '25:00', end: '', timeZone: 'Mars/Olympus_Mons' })
		);
		expect(bad).toEqual({
			ok: false,
			errors: {
				start: 'Enter the time it starts as hours and minutes, like 22:00.',
				end: 'Enter the time it ends, for example 22:00.',
				timeZone: 'Choose a time zone from the list, like Europe/Paris.'
			},
			values: { start: '25:00', end: '', timeZone: 'Mars/Olympus_Mons' }
		});

		const same = parseForm(ScheduleForm, form({ start: '08:00', end: '08:00', timeZone: 'UTC' }));
		expect(same).toMatchObject({ ok: false, errors: { end: expect.stringMatching(/differ/) } });

		const empty = parseForm(ScheduleForm, form({ start: '08:00', end: '09:00', timeZone: ' ' }));
		expect(empty).toMatchObject({ ok: false, errors: { timeZone: 'Choose your time zone.' } });
	});
});

describe('pausing notifications', () => {
	it('ends in an hour, at the next 8:00 in the zone, or now', () => {
		const now = Date.UTC(2026, 5, 10, 20, 15, 30);
		expect(pauseEnd('hour', now, 'UTC')).toBe(now + HOUR);
		expect(pauseEnd('off', now, 'UTC')).toBeNull();
		// 20:15 UTC is 22:15 in Paris (summer): 8:00 there tomorrow is 06:00 UTC.
		expect(pauseEnd('morning', now, 'Europe/Paris')).toBe(Date.UTC(2026, 5, 11, 6, 0));
		// Still night (03:00 in New York): the morning is today's.
		const night = Date.UTC(2026, 5, 10, 7, 0);
		expect(pauseEnd('morning', night, 'America/New_York')).toBe(Date.UTC(2026, 5, 10, 12, 0));
	});

	it('reads 8:00 on the clock of the morning after a change of summer time', () => {
		// The night Paris goes back to winter time (26 October 2026, 03:00 → 02:00).
		const evening = Date.UTC(2026, 9, 24, 20, 0); // 22:00 in Paris, summer time
		expect(pauseEnd('morning', evening, 'Europe/Paris')).toBe(Date.UTC(2026, 9, 25, 7, 0));
	});

	it('is kept, makes do-not-disturb hold until it ends, and can be lifted', async () => {
		const bob = await seedUser('bob');
		const now = Date.now();
		const choice = parseForm(PauseForm, form({ pause: 'hour' }));
		if (!choice.ok) throw new Error('expected a valid choice');
		const until = await setPause(db(), bob.id, choice.data.pause, { now });
		expect(until).toBe(now + HOUR);
		const quiet = await getQuietHours(db(), bob.id);
		expect(quiet.dndUntil).toBe(now + HOUR);
		expect(isQuiet(quiet, now + HOUR - 1)).toBe(true);
		expect(isQuiet(quiet, now + HOUR)).toBe(false);

		await setPause(db(), bob.id, 'off', { now });
		expect((await getQuietHours(db(), bob.id)).dndUntil).toBeNull();

		expect(parseForm(PauseForm, form({ pause: 'forever' }))).toMatchObject({
			ok: false,
			errors: { pause: 'Choose how long to pause notifications.' }
		});
	});

	it('finds the morning in the zone the page names, before any schedule is saved', async () => {
		const carol = await seedUser('carol');
		const choice = parseForm(PauseForm, form({ pause: 'morning', timeZone: 'Asia/Tokyo' }));
		if (!choice.ok) throw new Error('expected a valid choice');
		// 23:00 in Tokyo: 8:00 there is nine hours on, though the saved zone is still UTC.
		const now = Date.UTC(2026, 0, 5, 14, 0);
		await setPause(db(), carol.id, choice.data.pause, { now, timeZone: choice.data.timeZone });
		expect(await getQuietHours(db(), carol.id)).toMatchObject({
			dndUntil: Date.UTC(2026, 0, 5, 23, 0),
			timeZone: 'UTC'
		});
		expect(parseForm(PauseForm, form({ pause: 'hour', timeZone: 'Nowhere/Here' }))).toMatchObject({
			ok: false,
			errors: { timeZone: expect.any(String) }
		});
	});
});
