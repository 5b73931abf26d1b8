import { done, endpoint } from '$lib/server/api/endpoint';
import { Transfer } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { transferOwnership } from '$lib/server/rooms/members';

export const POST = endpoint({
	summary: 'Give the room to another member',
	description:
		'The owner makes another member the owner and stays on as an admin. Told in the room’s timeline.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: Transfer,
	status: 204,
	errors: {
		400: 'Yourself, or a direct conversation.',
		403: 'Not the owner of the room.',
		404: 'No such room, or the person is not a member of it.'
	},
	handle: async (ctx) => {
		const { params, body, db, rt, actor } = ctx;
		await ctx.room(params.id, 'transfer');
		done(await transferOwnership(db, rt, actor, params.id, body.userId));
	}
});
