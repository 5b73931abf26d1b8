import { fail, redirect } from '@sveltejs/kit';
import type { Done } from '$lib/server/outcome';
import { listBlocked, unblockUser } from '$lib/server/people/blocks';
import * as friends from '$lib/server/people/friends';
import { field, refuse, requireSignedIn, type Signed } from '$lib/server/request-context';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const [lists, blocked] = await Promise.all([
		friends.listFriends(db, user.id),
		listBlocked(db, user.id)
	]);
	return { ...lists, blocked };
};

type Change = (s: Signed, personId: string) => Promise<Done>;

/** Each action names the other person by id in a hidden field. */
function onPerson(change: Change) {
	return async (event: RequestEvent) => {
		const signed = requireSignedIn(event);
		const personId = field(await event.request.formData(), 'userId');
		if (!personId) return fail(400, { code: 'bad_input', message: 'Who?' });
		const result = await change(signed, personId);
		if (!result.ok) return refuse(result);
		redirect(303, '/friends');
	};
}

export const actions: Actions = {
	accept: onPerson((s, id) => friends.acceptFriendRequest(s.db, s.rt, s.user.id, id)),
	decline: onPerson((s, id) => friends.declineFriendRequest(s.db, s.rt, s.user.id, id)),
	cancel: onPerson((s, id) => friends.cancelFriendRequest(s.db, s.rt, s.user.id, id)),
	unfriend: onPerson((s, id) => friends.removeFriend(s.db, s.rt, s.user.id, id)),
	unblock: onPerson((s, id) => unblockUser(s.db, s.rt, s.user.id, id))
};
