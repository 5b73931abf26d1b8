import { error, fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { parseForm, rejectForm } from '$lib/server/forms';
import { requireSignedIn, roomAccessFor, type Signed } from '$lib/server/request-context';
import { setRoomTheme } from '$lib/server/rooms/theme';
import { authorizeRoom, requireAccess } from '$lib/server/rooms/authz';
import { ROOM_ACCENTS, ROOM_BACKGROUNDS, type RoomTheme } from '$lib/ui/room-theme';
import type { Actions, PageServerLoad } from './$types';

const NOT_FOUND = 'This room does not exist.';

export const load: PageServerLoad = async (event) => {
	requireSignedIn(event);
	const { room } = requireAccess(await roomAccessFor(event, event.params.id), 'configure');
	// The layout's name is the one people see: the other person's, in a direct conversation.
	const { roomTheme, roomName } = await event.parent();
	if (!roomTheme) error(404, NOT_FOUND);
	return { room: { id: room.id, name: roomName ?? room.name }, theme: roomTheme };
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
	save: async (event) => {
		const signed = requireSignedIn(event);
		const form = parseForm(ThemeForm, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		return saveTheme(signed, event.params.id, form.data);
	},
	reset: (event) =>
		saveTheme(requireSignedIn(event), event.params.id, { accent: null, background: null })
};

async function saveTheme({ user, db }: Signed, roomId: string, theme: RoomTheme) {
	const allowed = await authorizeRoom(db, user.id, roomId, 'configure');
	if (!allowed.ok) return fail(allowed.status, { values: {}, errors: { form: allowed.message } });
	const saved = await setRoomTheme(db, roomId, user.id, theme);
	if (!saved) return fail(404, { values: {}, errors: { form: NOT_FOUND } });
	redirect(303, `/rooms/${roomId}`);
}
