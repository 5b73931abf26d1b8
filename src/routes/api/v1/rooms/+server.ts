import * as v from 'valibot';
import { ApiError, done, endpoint } from '$lib/server/api/endpoint';
import { NewRoom, RoomAnswer, roomAnswer } from '$lib/server/api/room-schemas';
import { RoomSummary } from '$lib/server/api/schemas';
import { findPersonId } from '$lib/server/people/people';
import { MAX_GROUP_INVITEES, createGroup } from '$lib/server/rooms/groups';
import { createRoom, listConversations } from '$lib/server/rooms/rooms';

export const GET = endpoint({
	summary: 'My conversations',
	description:
		'Every room I am in, in the sidebar’s order (pinned first, then the most recently active). A token limited to some rooms lists only those.',
	tag: 'Rooms',
	scope: 'read',
	rooms: 'own',
	response: v.object({ rooms: v.array(RoomSummary) }),
	handle: async ({ db, user, grant }) => {
		const rooms = await listConversations(db, user.id);
		return { rooms: grant?.rooms ? rooms.filter((room) => grant.rooms!.has(room.id)) : rooms };
	}
});

export const POST = endpoint({
	summary: 'Create a room',
	description:
		'A group (`kind: "group"`: invite-only, with friends of yours added at once by `members`) or a public room (`kind: "public"`: listed in the directory, anyone may join; nobody is added to one). You own it. Answers the room.',
	tag: 'Rooms',
	scope: 'write',
	body: NewRoom,
	status: 201,
	response: RoomAnswer,
	errors: {
		400: `No name, a name or description too long, more than ${MAX_GROUP_INVITEES} people, or people named for a public room.`,
		403: 'Someone in `members` is not a friend of yours (send them an invite link instead).'
	},
	handle: async (ctx) => {
		const { body, db, rt, user, actor } = ctx;
		let roomId: string;
		if (body.kind === 'public') {
			// As the directory's form creates one.
			const room = await createRoom(db, {
				kind: 'public',
				name: body.name,
				description: body.description,
				createdBy: user.id
			});
			roomId = room.id;
		} else {
			const ids = await Promise.all(body.members.map((name) => findPersonId(db, name)));
			// Nobody by that name is nobody's friend: answered as for any non-friend, so the answer
			// does not tell whether an account exists.
			if (ids.some((id) => id === null)) {
				throw new ApiError(
					403,
					'not_friends',
					'You can add only your friends; send others an invite link.'
				);
			}
			const created = done(
				await createGroup(db, rt, actor, {
					name: body.name,
					description: body.description,
					memberIds: ids as string[]
				})
			);
			roomId = created.roomId;
		}
		return roomAnswer(db, user.id, await ctx.room(roomId, 'view'));
	}
});
