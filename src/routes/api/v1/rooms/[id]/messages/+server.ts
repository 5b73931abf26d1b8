import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import { SendFrame } from '$shared/protocol';
import { roomStub } from '$shared/objects';
import { endpoint } from '$lib/server/api/endpoint';
import { changeRoom } from '$lib/server/api/room-changes';
import { HistoryPage, HistoryWindow, MessageAnswer, RoomPath } from '$lib/server/api/schemas';
import { HistoryQuery, readHistoryFor } from '$lib/server/rooms/history';

export const GET = endpoint({
	summary: 'Read history',
	description:
		'A page of the room’s messages in `seq` order. Page back with `before` (the first `seq` of the page you have) while `hasMore`; page forward with `after`. `around` answers the window around one message. Deleted messages are there as tombstones (`deletedAt`), so a page has no gaps.',
	tag: 'Messages',
	scope: 'read',
	rooms: 'path',
	params: RoomPath,
	query: HistoryQuery,
	response: v.union([HistoryPage, HistoryWindow]),
	errors: { 404: 'No such room, or not one you can see.' },
	handle: async ({ params, query, db, env, room }) => {
		await room(params.id, 'read');
		return readHistoryFor(db, roomStub(env.ROOMS, params.id), params.id, query);
	}
});

export const POST = endpoint({
	summary: 'Send a message',
	description:
		'Sends a message as you, through the room like any other: it takes the next `seq`, reaches everyone connected at once, and is answered only once stored. `clientId` (any unique string of yours) makes it safe to retry: sending the same `clientId` again answers the message stored the first time (200) instead of sending it twice (201). Markdown and @mentions work as in the app; `attachments` are ids of files you uploaded to this room.',
	tag: 'Messages',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: v.omit(SendFrame, ['type']),
	status: 201,
	response: MessageAnswer,
	responseDescription: 'Stored (201), or stored before with this `clientId` (200).',
	errors: {
		400: 'An empty message, a file that cannot be attached, or a reply to a message that is gone.',
		404: 'No such room, or not one you can see.',
		413: 'The message is too long.'
	},
	handle: async (ctx) => {
		const { params, body, env } = ctx;
		const { membership } = await ctx.room(params.id, 'read');
		const { stored, duplicate } = await changeRoom(env, ctx.user, params.id, membership!.role, {
			type: 'send',
			...body
		});
		return json({ message: stored }, { status: duplicate ? 200 : 201 });
	}
});
