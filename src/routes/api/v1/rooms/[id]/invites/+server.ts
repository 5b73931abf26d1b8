import { done, endpoint } from '$lib/server/api/endpoint';
import { CreatedInvite, InviteList, NewInvite } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { hashSecret } from '$lib/server/ids';
import { createInvite, listInvites } from '$lib/server/rooms/invites';

export const GET = endpoint({
	summary: 'Invite links',
	description:
		'The room’s 50 newest invite links, newest first, and whether each still works (admins and the owner). A link’s code is never shown again: each is named by its `id`.',
	tag: 'Invites',
	scope: 'read',
	rooms: 'path',
	params: RoomPath,
	response: InviteList,
	errors: {
		400: 'A direct conversation, which has no links.',
		403: 'Not an admin of the room, or banned from it.',
		404: 'No such room, or not one you can see.'
	},
	handle: async ({ params, db, room }) => {
		await room(params.id, 'manage_invites');
		return { invites: await listInvites(db, params.id) };
	}
});

export const POST = endpoint({
	summary: 'Create an invite link',
	description:
		'A link anyone signed in can join the room with (admins and the owner), working for `lifetime` and at most `maxUses` times. Its `code` and `url` are answered this once: only a hash of the code is kept.',
	tag: 'Invites',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: NewInvite,
	status: 201,
	response: CreatedInvite,
	errors: {
		400: 'A lifetime or number of uses not offered, or a direct conversation.',
		403: 'Not an admin of the room, or banned from it.',
		404: 'No such room, or not one you can see.'
	},
	handle: async (ctx) => {
		const { params, body, db, actor, event } = ctx;
		await ctx.room(params.id, 'manage_invites');
		const { code } = done(await createInvite(db, actor, params.id, body));
		// A link is stored as its code's hash, which is its id in the list.
		return { id: hashSecret(code), code, url: `${event.url.origin}/invite/${code}` };
	}
});
