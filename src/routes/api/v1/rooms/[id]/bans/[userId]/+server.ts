import { done, endpoint } from '$lib/server/api/endpoint';
import { MemberPath } from '$lib/server/api/room-schemas';
import { banMember, unbanMember } from '$lib/server/rooms/members';

export const PUT = endpoint({
	summary: 'Ban a member',
	description:
		'Takes the member out of the room and keeps them out (admins and the owner): their open connections to it close at once, and neither an invite link nor an admin can bring them back until they are unbanned. Told in the room’s timeline.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: MemberPath,
	status: 204,
	errors: {
		400: 'Yourself, or a direct conversation.',
		403: 'Not an admin of the room, or the person is an owner.',
		404: 'No such room, or the person is not a member of it (one banned already is not).',
		409: 'The owner, who cannot be banned.'
	},
	handle: async (ctx) => {
		const { params, db, rt, actor } = ctx;
		await ctx.room(params.id, 'ban');
		done(await banMember(db, rt, actor, params.id, params.userId));
	}
});

export const DELETE = endpoint({
	summary: 'Unban someone',
	description:
		'Lifts the ban (admins and the owner). It does not bring them back: they can be added or invited again.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: MemberPath,
	status: 204,
	errors: {
		400: 'A direct conversation, which bans nobody.',
		403: 'Not an admin of the room, or banned from it.',
		404: 'No such room, or the person is not banned from it.'
	},
	handle: async (ctx) => {
		const { params, db, actor } = ctx;
		await ctx.room(params.id, 'ban');
		done(await unbanMember(db, actor, params.id, params.userId));
	}
});
