import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { parseForm, rejectForm } from '$lib/server/forms';
import { setRoomTheme } from '$lib/server/rooms/theme';
import { authorizeRoom, requireRoom } from '$lib/server/rooms/authz';
import { ROOM_ACCENTS, ROOM_BACKGROUNDS, type RoomTheme } from '$lib/ui/room-theme';
import type { Actions, PageServerLoad } from './$types';

const NOT_FOUND = 'This room does not exist.';

export const load: PageServerLoad = async ({ locals, params, platform, parent, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
	const [{ roomTheme }, { room }] = await Promise.all([
		parent(),
		requireRoom(getDb(platformEnv(platform).DB), locals.user.id, params.id, 'configure')
	]);
	if (!roomTheme) error(404, NOT_FOUND);
	return { room: { id: room.id, name: room.name }, theme: roomTheme };
};

/** "" is the default; anything else must be one of the offered names. */
const choice = <T extends Record<string, string>>(table: T, message: string) =>
	v.pipe(
		v.optional(v.string(), ''),
		v.check((value) => value === '' || Object.hasOwn(table, value), message),
		v.transform((value) => (value === '' ? null : (value as keyof T & string)))
	);

const ThemeForm = v.object({
	accent: choice(ROOM_ACCENTS, 'Choose one of the accents shown.'),
	background: choice(ROOM_BACKGROUNDS, 'Choose one of the backgrounds shown.')
});

export const actions: Actions = {
	save: async ({ locals, params, platform, request }) => {
		if (!locals.user) redirect(303, '/login');
		const form = parseForm(ThemeForm, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const theme: RoomTheme = form.data;
		const db = getDb(platformEnv(platform).DB);
		const allowed = await authorizeRoom(db, locals.user.id, params.id, 'configure');
		if (!allowed.ok) return fail(allowed.status, { values: {}, errors: { form: allowed.message } });
		const saved = await setRoomTheme(db, params.id, locals.user.id, theme);
		if (!saved) return fail(404, { values: {}, errors: { form: NOT_FOUND } });
		redirect(303, `/rooms/${params.id}`);
	},
	reset: async ({ locals, params, platform }) => {
		if (!locals.user) redirect(303, '/login');
		const theme: RoomTheme = { accent: null, background: null };
		const db = getDb(platformEnv(platform).DB);
		const allowed = await authorizeRoom(db, locals.user.id, params.id, 'configure');
		if (!allowed.ok) return fail(allowed.status, { values: {}, errors: { form: allowed.message } });
		const saved = await setRoomTheme(db, params.id, locals.user.id, theme);
		if (!saved) return fail(404, { values: {}, errors: { form: NOT_FOUND } });
		redirect(303, `/rooms/${params.id}`);
	}
};
