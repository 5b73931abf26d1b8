import * as v from 'valibot';
import { endpoint, type ApiContext } from '$lib/server/api/endpoint';
import { changeRoom } from '$lib/server/api/room-changes';
import { MessageAnswer, MessagePath } from '$lib/server/api/schemas';
import { ReactFrame } from '$shared/protocol';

const ReactionPath = v.object({
	...MessagePath.entries,
	emoji: v.pipe(ReactFrame.entries.emoji, v.description('One emoji (URL-encoded).'))
});

type Path = v.InferOutput<typeof ReactionPath>;

async function react(ctx: ApiContext<Path, undefined, undefined>, on: boolean) {
	const { params, env } = ctx;
	const { membership } = await ctx.room(params.id, 'read');
	const { stored } = await changeRoom(env, ctx.user, params.id, membership!.role, {
		type: 'react',
		seq: params.seq,
		emoji: params.emoji,
		on
	});
	return { message: stored };
}

const common = {
	tag: 'Messages',
	scope: 'write',
	rooms: 'path',
	params: ReactionPath,
	response: MessageAnswer,
	errors: {
		400: 'Not a single emoji, or the message has as many different reactions as it may.',
		404: 'No such room or message, or the message was deleted.'
	}
} as const;

export const PUT = endpoint({
	...common,
	summary: 'React to a message',
	description: 'Adds your reaction. Adding one you have already added changes nothing.',
	handle: (ctx) => react(ctx, true)
});

export const DELETE = endpoint({
	...common,
	summary: 'Take back a reaction',
	description: 'Removes your reaction. Removing one you have not added changes nothing.',
	handle: (ctx) => react(ctx, false)
});
