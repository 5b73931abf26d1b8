import * as v from 'valibot';
import { endpoint } from '$lib/server/api/endpoint';
import { changeRoom } from '$lib/server/api/room-changes';
import { MessageAnswer, MessagePath } from '$lib/server/api/schemas';

export const PATCH = endpoint({
	summary: 'Edit a message',
	description:
		'Changes the words of one of your own messages; everyone connected sees the edit at once.',
	tag: 'Messages',
	scope: 'write',
	rooms: 'path',
	params: MessagePath,
	body: v.object({ body: v.string() }),
	response: MessageAnswer,
	errors: {
		400: 'An empty message (unless it carries files).',
		403: 'Not your message.',
		404: 'No such room or message, or the message was deleted.',
		413: 'The message is too long.'
	},
	handle: async (ctx) => {
		const { params, body, env } = ctx;
		const { membership } = await ctx.room(params.id, 'read');
		const { stored } = await changeRoom(env, ctx.user, params.id, membership!.role, {
			type: 'edit',
			seq: params.seq,
			body: body.body
		});
		return { message: stored };
	}
});

export const DELETE = endpoint({
	summary: 'Delete a message',
	description:
		'Deletes one of your messages, or as the room’s owner or an admin anyone’s. Its place stays as a tombstone; its words and files are gone. Deleting a deleted message changes nothing and is not an error.',
	tag: 'Messages',
	scope: 'write',
	rooms: 'path',
	params: MessagePath,
	response: MessageAnswer,
	errors: {
		403: 'Not your message, and you are not an admin here.',
		404: 'No such room or message.'
	},
	handle: async (ctx) => {
		const { params, env } = ctx;
		const { membership } = await ctx.room(params.id, 'read');
		const { stored } = await changeRoom(env, ctx.user, params.id, membership!.role, {
			type: 'delete',
			seq: params.seq
		});
		return { message: stored };
	}
});
