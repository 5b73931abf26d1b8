import { error, redirect } from '@sveltejs/kit';
import { loadRoomAccess } from '$lib/server/rooms/authz';
import { inspectInvite, redeemInvite } from '$lib/server/rooms/invites';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';
import { refuse, requireSignedIn } from '$lib/server/request-context';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const found = await inspectInvite(db, event.params.code);
	if (!found.ok) error(found.status, { message: found.message, code: found.code });
	const { room } = found;
	if ((await loadRoomAccess(db, room.id, user.id)).banned) {
		error(403, { message: `An admin removed you from ${room.name}.`, code: 'banned' });
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
		const { user, db, rt, env } = requireSignedIn(event);
		const joined = await redeemInvite(db, rt, user, event.params.code, e2eeMaxMembers(env));
		if (joined.ok) redirect(303, `/rooms/${joined.roomId}`);
		// Said as the page says it when the link is opened (see Refusal.svelte).
		const banned = joined.code === 'banned';
		return refuse(banned ? { ...joined, message: 'An admin removed you from this room.' } : joined);
	}
};
