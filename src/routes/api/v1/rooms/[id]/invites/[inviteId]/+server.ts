import { done, endpoint } from '$lib/server/api/endpoint';
import { InvitePath } from '$lib/server/api/room-schemas';
import { revokeInvite } from '$lib/server/rooms/invites';

export const DELETE = endpoint({
	summary: 'Revoke an invite link',
	description:
		'The link stops working at once (admins and the owner). People who joined with it stay.',
	tag: 'Invites',
	scope: 'write',
	rooms: 'path',
	params: InvitePath,
	status: 204,
	errors: {
		400: 'A direct conversation, which has no links.',
		403: 'Not an admin of the room, or banned from it.',
		404: 'No such room, or no such link in it, or one revoked already.'
	},
	handle: async (ctx) => {
		const { params, db, actor } = ctx;
		await ctx.room(params.id, 'manage_invites');
		done(await revokeInvite(db, actor, params.id, params.inviteId));
	}
});
