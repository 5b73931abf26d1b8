import { done, endpoint } from '$lib/server/api/endpoint';
import { RoomPath } from '$lib/server/api/schemas';
import { leaveRoom } from '$lib/server/rooms/members';

export const POST = endpoint({
	summary: 'Leave a room',
	description:
		'Leaves the room: it leaves my list, and my open connections to it close. Leaving a group is told in its timeline. The owner must transfer the room or delete it first.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	status: 204,
	errors: {
		400: 'A direct conversation, which cannot be left.',
		403: 'Not a member of the room, banned, or a direct conversation closed by a block.',
		404: 'No such room, or not one you can see.',
		409: 'You own the room: transfer it or delete it first.'
	},
	handle: async (ctx) => {
		const { params, db, rt, actor } = ctx;
		await ctx.room(params.id, 'leave');
		done(await leaveRoom(db, rt, actor, params.id));
	}
});
