import { error, redirect } from '@sveltejs/kit';
import { deleteRoomAsSiteAdmin } from '$lib/server/rooms/admin';
import { getRoomForAdmin, requireSiteAdmin } from '$lib/server/moderation/site-admin';
import { field, refuse } from '$lib/server/request-context';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { db } = requireSiteAdmin(event);
	const room = await getRoomForAdmin(db, event.params.id);
	if (!room) error(404, 'There is no such room.');
	return { room };
};

export const actions: Actions = {
	delete: async (event) => {
		const { db, rt, user } = requireSiteAdmin(event);
		const reason = field(await event.request.formData(), 'reason')
			.trim()
			.slice(0, 500);
		const done = await deleteRoomAsSiteAdmin(db, rt, user, event.params.id, reason);
		if (!done.ok) return refuse(done);
		redirect(303, '/admin/rooms');
	}
};
