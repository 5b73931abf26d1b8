import { ApiError, done, endpoint } from '$lib/server/api/endpoint';
import { InviteCodePath, InvitePreview } from '$lib/server/api/room-schemas';
import { loadRoomAccess } from '$lib/server/rooms/authz';
import { inspectInvite } from '$lib/server/rooms/invites';

export const GET = endpoint({
	summary: 'What an invite link leads to',
	description:
		'The room an invite link joins, as its page shows it before joining: name, description and member count, and whether I am in it already. Looking does not use the link.',
	tag: 'Invites',
	scope: 'read',
	params: InviteCodePath,
	response: InvitePreview,
	errors: {
		403: 'Banned from the room.',
		404: 'No such link.',
		410: 'The link was revoked, has expired or has been used up.'
	},
	handle: async ({ params, db, user }) => {
		const { room } = done(await inspectInvite(db, params.code));
		const access = await loadRoomAccess(db, room.id, user.id);
		if (access.banned) {
			throw new ApiError(403, 'banned', `An admin removed you from ${room.name}.`);
		}
		return {
			room: {
				id: room.id,
				kind: room.kind,
				name: room.name,
				description: room.description,
				memberCount: room.memberCount
			},
			joined: access.membership !== null
		};
	}
});
