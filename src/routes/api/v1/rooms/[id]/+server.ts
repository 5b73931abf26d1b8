import { done, endpoint } from '$lib/server/api/endpoint';
import { RoomAnswer, RoomChanges, roomAnswer } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { deleteRoom, updateRoomDetails } from '$lib/server/rooms/admin';

export const GET = endpoint({
	summary: 'A room',
	description:
		'The room: its name (a direct conversation is named after the other person), description, member count and icon, and my membership of it (my role and my settings), or `membership: null` for a public room I have not joined.',
	tag: 'Rooms',
	scope: 'read',
	rooms: 'path',
	params: RoomPath,
	response: RoomAnswer,
	errors: {
		403: 'Banned from the room, or a direct conversation closed by a block.',
		404: 'No such room, or not one you can see.'
	},
	handle: async ({ params, db, user, room }) =>
		roomAnswer(db, user.id, await room(params.id, 'view'))
});

export const PATCH = endpoint({
	summary: 'Rename or describe a room',
	description:
		'Changes the name, the description or both (admins and the owner). Each change is told in the room’s timeline. Answers the room.',
	tag: 'Rooms',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: RoomChanges,
	response: RoomAnswer,
	errors: {
		400: 'An empty or too long name, a too long description, or a direct conversation (which has neither).',
		403: 'Not an admin of the room, or banned from it.',
		404: 'No such room, or not one you can see.'
	},
	handle: async (ctx) => {
		const { params, body, db, rt, user, actor } = ctx;
		const { room } = await ctx.room(params.id, 'edit');
		// What is not given stays as it is.
		const details = {
			name: body.name ?? room.name,
			description: body.description ?? room.description
		};
		done(await updateRoomDetails(db, rt, actor, params.id, details));
		return roomAnswer(db, user.id, await ctx.room(params.id, 'view'));
	}
});

export const DELETE = endpoint({
	summary: 'Delete a room',
	description:
		'Deletes the room for everyone, with its history, files, members and links (the owner only). Everyone’s open connections to it close.',
	tag: 'Rooms',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	status: 204,
	errors: {
		400: 'A direct conversation, which nobody owns.',
		403: 'Not the owner of the room, or banned from it.',
		404: 'No such room, or not one you can see.'
	},
	handle: async (ctx) => {
		const { params, db, rt, actor } = ctx;
		await ctx.room(params.id, 'delete');
		done(await deleteRoom(db, rt, actor, params.id));
	}
});
