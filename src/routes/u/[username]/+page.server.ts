import { error, fail, redirect } from '@sveltejs/kit';
import type { Done } from '$lib/server/outcome';
import { blockUser, unblockUser } from '$lib/server/people/blocks';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import * as friends from '$lib/server/people/friends';
import { findPersonId, getProfile, setDmPolicy } from '$lib/server/people/people';
import { reportPerson } from '$lib/server/moderation/reports';
import { field, refuse, requireSignedIn, type Signed } from '$lib/server/request-context';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const profile = await getProfile(db, user.id, event.params.username);
	if (!profile) error(404, 'There is no such person.');
	return { profile };
};

type Change = (s: Signed, personId: string) => Promise<Done>;

/** Every action here acts on the person of the page, then shows the page again. */
function onPerson(change: Change) {
	return async (event: RequestEvent) => {
		const signed = requireSignedIn(event);
		const personId = await findPersonId(signed.db, event.params.username);
		if (!personId) return fail(404, { code: 'not_found', message: 'There is no such person.' });
		const result = await change(signed, personId);
		if (!result.ok) return refuse(result);
		redirect(303, `/u/${event.params.username}`);
	};
}

export const actions: Actions = {
	request: onPerson((s, id) => friends.sendFriendRequest(s.db, s.rt, s.user.id, id)),
	cancel: onPerson((s, id) => friends.cancelFriendRequest(s.db, s.rt, s.user.id, id)),
	accept: onPerson((s, id) => friends.acceptFriendRequest(s.db, s.rt, s.user.id, id)),
	decline: onPerson((s, id) => friends.declineFriendRequest(s.db, s.rt, s.user.id, id)),
	unfriend: onPerson((s, id) => friends.removeFriend(s.db, s.rt, s.user.id, id)),
	block: onPerson((s, id) => blockUser(s.db, s.rt, s.user.id, id)),
	unblock: onPerson((s, id) => unblockUser(s.db, s.rt, s.user.id, id)),
	message: async (event) => {
		const { user, db } = requireSignedIn(event);
		const personId = await findPersonId(db, event.params.username);
		if (!personId) return fail(404, { code: 'not_found', message: 'There is no such person.' });
		const room = await findOrCreateDirectRoom(db, user.id, personId);
		if (!room.ok) return refuse(room);
		redirect(303, `/rooms/${room.roomId}`);
	},
	// A report of the person, for the site's admins: answered in place (the thanks, or why not).
	report: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = await event.request.formData();
		const input = { reason: field(form, 'reason'), details: field(form, 'details') };
		const reported = await reportPerson(db, user, event.params.username, input);
		if (!reported.ok) {
			const status = reported.code === 'too_many' ? 429 : reported.status;
			return fail(status, { report: true, code: reported.code, message: reported.message });
		}
		return { reported: true };
	},
	dmPolicy: async (event) => {
		const { user, db } = requireSignedIn(event);
		const policy = field(await event.request.formData(), 'dmPolicy');
		if (policy !== 'friends' && policy !== 'everyone') {
			return fail(400, { code: 'bad_input', message: 'Choose friends or everyone.' });
		}
		await setDmPolicy(db, user.id, policy);
		redirect(303, `/u/${user.username}`);
	}
};
