import { done, endpoint } from '$lib/server/api/endpoint';
import { RoomAnswer, roomAnswer } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { joinPublicRoom } from '$lib/server/rooms/members';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';

export const POST = endpoint({
	summary: 'Join a public room',
	description:
		'Joins a public room as a member (joining one I am in already changes nothing). Groups are invite-only: join one with an invite link (`POST /api/v1/invites/{code}/redeem`). Answers the room.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	response: RoomAnswer,
	errors: {
		403: 'A group (invite-only), banned from the room, or a direct conversation closed by a block.',
		404: 'No such room, or not one you can see.'
	},
	handle: async (ctx) => {
		const { params, db, user, actor, env } = ctx;
		await ctx.room(params.id, 'join');
		done(await joinPublicRoom(db, actor, params.id, e2eeMaxMembers(env)));
		return roomAnswer(db, user.id, await ctx.room(params.id, 'view'));
	}
});
