import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { parseForm, rejectForm } from '$lib/server/forms';
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
	createRoom: async ({ locals, request, platform }) => {
		if (!locals.user) redirect(303, '/login');
		const form = parseForm(NewRoom, await request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const room = await createRoom(getDb(platformEnv(platform).DB), {
			kind: 'public',
			name: form.data.name,
			createdBy: locals.user.id
		});
		redirect(303, `/rooms/${room.id}`);
	}
};
