import { done, endpoint } from '$lib/server/api/endpoint';
import { MemberPath, RoleChange } from '$lib/server/api/room-schemas';
import { removeMember, setMemberRole } from '$lib/server/rooms/members';

export const PATCH = endpoint({
	summary: 'Make a member an admin, or an admin a member',
	description:
		'Changes a member’s role (admins and the owner; only an owner changes another owner). Their open connections act with the new role at once, and it is told in the room’s timeline. Ownership is given with `POST /api/v1/rooms/{id}/transfer`.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: MemberPath,
	body: RoleChange,
	status: 204,
	errors: {
		400: 'A direct conversation, which has no members to manage.',
		403: 'Not an admin of the room, or the person is an owner.',
		404: 'No such room, or the person is not a member of it.',
		409: 'They have that role already, or they are the owner (transfer ownership first).'
	},
	handle: async (ctx) => {
		const { params, body, db, rt, actor } = ctx;
		await ctx.room(params.id, 'set_role');
		done(await setMemberRole(db, rt, actor, params.id, params.userId, body.role));
	}
});

export const DELETE = endpoint({
	summary: 'Remove a member',
	description:
		'Takes the person out of the room (admins and the owner): their open connections to it close at once, and it is told in the room’s timeline. They can come back if invited again; to keep them out, ban them.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: MemberPath,
	status: 204,
	errors: {
		400: 'Yourself (leave instead), or a direct conversation.',
		403: 'Not an admin of the room, or the person is an owner.',
		404: 'No such room, or the person is not a member of it.',
		409: 'The owner, who cannot be removed.'
	},
	handle: async (ctx) => {
		const { params, db, rt, actor } = ctx;
		await ctx.room(params.id, 'remove_member');
		done(await removeMember(db, rt, actor, params.id, params.userId));
	}
});
