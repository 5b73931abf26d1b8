import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { listFriends } from '$lib/server/people/friends';
import { parseForm, rejectForm } from '$lib/server/forms';
import { createGroup } from '$lib/server/rooms/groups';
import { refuse, requireSignedIn } from '$lib/server/request-context';
import { MAX_DESCRIPTION_LENGTH } from '$lib/server/rooms/admin';
import { MAX_ROOM_NAME_LENGTH } from '$lib/server/rooms/rooms';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';
import type { Actions, PageServerLoad } from './$types';

const NewGroup = v.object({
	name: v.pipe(
		v.string(),
		v.trim(),
		v.nonEmpty('Give the group a name.'),
		v.maxLength(MAX_ROOM_NAME_LENGTH, `Names are at most ${MAX_ROOM_NAME_LENGTH} characters.`)
	),
	description: v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.maxLength(MAX_DESCRIPTION_LENGTH, `At most ${MAX_DESCRIPTION_LENGTH} characters.`)
		),
		''
	),
	/** The checkbox "End-to-end encrypted": sent as `1` when ticked, absent otherwise. */
	encrypted: v.optional(v.picklist(['1'], 'Tick the box or leave it empty.'))
});

export const load: PageServerLoad = async (event) => {
	const { user, db, env } = requireSignedIn(event);
	return { friends: (await listFriends(db, user.id)).friends, e2eeMaxMembers: e2eeMaxMembers(env) };
};

export const actions: Actions = {
	default: async (event) => {
		const { user, db, rt, env } = requireSignedIn(event);
		const data = await event.request.formData();
		const form = parseForm(NewGroup, data);
		if (!form.ok) return rejectForm(form.values, form.errors);
		const memberIds = data.getAll('members').filter((m): m is string => typeof m === 'string');
		const { encrypted, ...details } = form.data;
		const created = await createGroup(
			db,
			rt,
			user,
			{ ...details, memberIds, encrypted: encrypted === '1' },
			e2eeMaxMembers(env)
		);
		if (!created.ok) return refuse(created);
		redirect(303, `/rooms/${created.roomId}`);
	}
};
