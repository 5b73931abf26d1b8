import { redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireAccess } from '$lib/server/rooms/authz';
import { deny, type Done } from '$lib/server/outcome';
import { listRoomMedia } from '$lib/server/files/media';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { parseForm, rejectForm } from '$lib/server/forms';
import {
	INVITE_LIFETIMES,
	createInvite,
	listInvites,
	revokeInvite
} from '$lib/server/rooms/invites';
import {
	field,
	refuse,
	requireSignedIn,
	roomAccessFor,
	type Signed
} from '$lib/server/request-context';
import { deleteRoom, updateRoomDetails } from '$lib/server/rooms/admin';
import * as members from '$lib/server/rooms/members';
import { updateMemberSettings } from '$lib/server/rooms/settings';
import { Details, InviteOptions, Settings } from './forms';
import { detailsHref, sectionIn } from './sections';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

export const load: PageServerLoad = async (event) => {
	const { user, db } = requireSignedIn(event);
	const access = requireAccess(await roomAccessFor(event, event.params.id), 'read');
	const { room, membership } = access;
	const admin = room.kind !== 'direct' && membership!.role !== 'member';
	// `?media_before=` pages the media panel back in time (a link, so it works without JavaScript).
	const mediaBefore = event.url.searchParams.get('media_before');
	const [memberList, bans, invites, name, media] = await Promise.all([
		members.listMembers(db, room.id),
		admin ? members.listBans(db, room.id) : [],
		admin ? listInvites(db, room.id) : [],
		peerNameOf(db, room, user.id),
		listRoomMedia(db, access, { before: mediaBefore })
	]);
	const { role, notify, pinned, archived } = membership!;
	return {
		room: { id: room.id, kind: room.kind, name, description: room.description },
		me: { id: user.id, role, notify, pinned, archived },
		members: memberList,
		bans,
		invites,
		lifetimes: Object.keys(INVITE_LIFETIMES),
		media: media ?? { items: [], older: null },
		mediaPaged: mediaBefore !== null
	};
};

type Step = (s: Signed, roomId: string, form: FormData) => Promise<Done>;

/** Back to the details page, on the section whose form was sent (`?/add` → Members). */
const backToSection = (event: RequestEvent) => detailsHref(event.params.id, sectionIn(event.url));

/** Runs one change to the room for the signed-in user; refusals come back as `{code, message}`. */
function change(step: Step, after: (event: RequestEvent) => string = backToSection) {
	return async (event: RequestEvent) => {
		const signed = requireSignedIn(event);
		const result = await step(signed, event.params.id, await event.request.formData());
		if (!result.ok) return refuse(result);
		redirect(303, after(event));
	};
}

export const actions: Actions = {
	settings: change(async (s, id, form) => {
		const parsed = v.safeParse(Settings, Object.fromEntries(form));
		if (!parsed.success) return deny(400, 'bad_input', 'Choose all, mentions or mute.');
		return updateMemberSettings(s.db, s.rt, s.user, id, parsed.output);
	}),
	leave: change(
		(s, id) => members.leaveRoom(s.db, s.rt, s.user, id),
		() => '/'
	),
	delete: change(
		(s, id) => deleteRoom(s.db, s.rt, s.user, id),
		() => '/'
	),
	add: change((s, id, form) => members.addMember(s.db, s.rt, s.user, id, field(form, 'username'))),
	remove: change((s, id, form) =>
		members.removeMember(s.db, s.rt, s.user, id, field(form, 'userId'))
	),
	ban: change((s, id, form) => members.banMember(s.db, s.rt, s.user, id, field(form, 'userId'))),
	unban: change((s, id, form) => members.unbanMember(s.db, s.user, id, field(form, 'userId'))),
	promote: change((s, id, form) =>
		members.setMemberRole(s.db, s.rt, s.user, id, field(form, 'userId'), 'admin')
	),
	demote: change((s, id, form) =>
		members.setMemberRole(s.db, s.rt, s.user, id, field(form, 'userId'), 'member')
	),
	transfer: change((s, id, form) =>
		members.transferOwnership(s.db, s.rt, s.user, id, field(form, 'userId'))
	),
	revoke: change((s, id, form) => revokeInvite(s.db, s.user, id, field(form, 'inviteId'))),
	update: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		const form = parseForm(Details, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const result = await updateRoomDetails(db, rt, user, event.params.id, form.data);
		if (!result.ok) return refuse(result);
		redirect(303, backToSection(event));
	},
	invite: async (event) => {
		const { user, db } = requireSignedIn(event);
		const form = parseForm(InviteOptions, await event.request.formData());
		if (!form.ok) return rejectForm(form.values, form.errors);
		const created = await createInvite(db, user, event.params.id, form.data);
		if (!created.ok) return refuse(created);
		// The code is shown this once: only its hash is kept.
		return { inviteUrl: `${event.url.origin}/invite/${created.code}` };
	}
};
