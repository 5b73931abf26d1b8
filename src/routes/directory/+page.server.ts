import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { listPublicRooms } from '$lib/server/rooms/directory';
import { parseForm, rejectForm } from '$lib/server/forms';
import { requireSignedIn } from '$lib/server/request-context';
import { MAX_ROOM_NAME_LENGTH, createRoom } from '$lib/server/rooms/rooms';
import type { Actions, PageServerLoad } from './$types';

const NewPublicRoom = v.object({
	name: v.pipe(
		v.string(),
		v.trim(),
		v.nonEmpty('Give the room a name.'),
		v.maxLength(MAX_ROOM_NAME_LENGTH, `Room names are at most ${MAX_ROOM_NAME_LENGTH} characters.`)
	)
});

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const q = (event.url.searchParams.get('q') ?? '').slice(0, 80);
	return { q, rooms: await listPublicRooms(db, user.id, q) };
};

export const actions: Actions = {
	create: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = parseForm(NewPublicRoom, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const room = await createRoom(db, { kind: 'public', name: form.data.name, createdBy: user.id });
		redirect(303, `/rooms/${room.id}`);
	}
};
