import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { parseForm, rejectForm } from '$lib/server/forms';
import { requireSignedIn } from '$lib/server/request-context';
import { MAX_ROOM_NAME_LENGTH, createRoom } from '$lib/server/rooms/rooms';
import type { Actions } from './$types';

const NewRoom = v.object({
	name: v.pipe(
		v.string(),
		v.trim(),
		v.nonEmpty('Give the room a name.'),
		v.maxLength(MAX_ROOM_NAME_LENGTH, `Room names are at most ${MAX_ROOM_NAME_LENGTH} characters.`)
	)
});

export const actions: Actions = {
	createRoom: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = parseForm(NewRoom, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const room = await createRoom(db, { kind: 'public', name: form.data.name, createdBy: user.id });
		redirect(303, `/rooms/${room.id}`);
	}
};
