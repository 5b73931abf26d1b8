import { done, endpoint } from '$lib/server/api/endpoint';
import { RoomAnswer, SettingsChanges, roomAnswer } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { updateMemberSettings } from '$lib/server/rooms/settings';

export const PATCH = endpoint({
	summary: 'My settings for a room',
	description:
		'What notifies me from the room (`all`, `mentions` or `mute`), and whether it is pinned to the top of my list or archived. Only what is given changes; they are mine alone. Answers the room.',
	tag: 'Rooms',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: SettingsChanges,
	response: RoomAnswer,
	errors: {
		403: 'Not a member of the room (a public room must be joined first), banned, or a direct conversation closed by a block.',
		404: 'No such room, or not one you can see.'
	},
	handle: async (ctx) => {
		const { params, body, db, rt, user, actor } = ctx;
		const { membership } = await ctx.room(params.id, 'configure');
		const settings = {
			notify: body.notify ?? membership!.notify,
			pinned: body.pinned ?? membership!.pinned,
			archived: body.archived ?? membership!.archived
		};
		done(await updateMemberSettings(db, rt, actor, params.id, settings));
		return roomAnswer(db, user.id, await ctx.room(params.id, 'view'));
	}
});
