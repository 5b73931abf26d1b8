import { error, redirect } from '@sveltejs/kit';
import { loadRoomAccess } from '$lib/server/rooms/authz';
import { inspectInvite, redeemInvite } from '$lib/server/rooms/invites';
import { refuse, requireSignedIn } from '$lib/server/request-context';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const found = await inspectInvite(db, event.params.code);
	if (!found.ok) error(found.status, { message: found.message, code: found.code });
	const { room } = found;
	if ((await loadRoomAccess(db, room.id, user.id)).banned) {
		error(403, { message: 'You are banned from this room.', code: 'banned' });
	}
	return {
		room: {
			id: room.id,
			name: room.name,
			description: room.description,
			memberCount: room.memberCount
		}
	};
};

export const actions: Actions = {
	join: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		const joined = await redeemInvite(db, rt, user, event.params.code);
		if (!joined.ok) return refuse(joined);
		redirect(303, `/rooms/${joined.roomId}`);
	}
};
