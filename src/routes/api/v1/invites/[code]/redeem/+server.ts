import { ApiError, endpoint } from '$lib/server/api/endpoint';
import { InviteCodePath, RoomAnswer, roomAnswer } from '$lib/server/api/room-schemas';
import { redeemInvite } from '$lib/server/rooms/invites';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';

export const POST = endpoint({
	summary: 'Join with an invite link',
	description:
		'Joins the room the link leads to, using one of its uses; told in the room’s timeline. Someone in the room already just gets the room, using nothing. Answers the room.',
	tag: 'Invites',
	scope: 'write',
	params: InviteCodePath,
	response: RoomAnswer,
	errors: {
		403: 'Banned from the room.',
		404: 'No such link.',
		410: 'The link was revoked, has expired or has been used up.'
	},
	handle: async (ctx) => {
		const { params, db, rt, user, actor, env } = ctx;
		const joined = await redeemInvite(db, rt, actor, params.code, e2eeMaxMembers(env));
		if (!joined.ok) {
			// Said as the invite page says it.
			const message =
				joined.code === 'banned' ? 'An admin removed you from this room.' : joined.message;
			throw new ApiError(joined.status, joined.code, message);
		}
		return roomAnswer(db, user.id, await ctx.room(joined.roomId, 'view'));
	}
});
