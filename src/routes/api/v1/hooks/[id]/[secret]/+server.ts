import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import { SendFrame } from '$shared/protocol';
import { ApiError, endpoint, refused, tooFast } from '$lib/server/api/endpoint';
import { MessageAnswer } from '$lib/server/api/schemas';
import { changeRoom } from '$lib/server/api/room-changes';
import { webhookBot } from '$lib/server/bots/bots';
import { sessionUserOf } from '$lib/server/auth/session';
import { generateId } from '$lib/server/ids';
import { consumeRateLimits, RateLimits } from '$lib/server/rate-limit';
import { decideRoom, loadRoomAccess } from '$lib/server/rooms/authz';

const Secret = v.pipe(v.string(), v.regex(/^[a-z0-9]{1,64}$/, 'is not a webhook address'));

export const POST = endpoint({
	summary: 'Post through an incoming webhook',
	description:
		'Posts a message into the bot’s room as the bot, from anything that can send an HTTP request (a build server, an alerting tool): the address is the credential, made in the room’s details (Bots) and shown once; keep it secret. The body is `{"text": "…"}` (Markdown, as in the app; the shape Slack-style webhooks send). A `clientId` of yours makes a retry safe: the same one again answers the message stored the first time. 120 posts a minute per address, and the bot’s own sending rate in the room.',
	tag: 'Bots',
	scope: 'write',
	public: true,
	params: v.object({
		id: v.pipe(Secret, v.description('The webhook’s id (the first part of its address).')),
		secret: v.pipe(Secret, v.description('The webhook’s secret (the last part of its address).'))
	}),
	body: v.object({
		text: v.pipe(v.string(), v.description('The message.')),
		clientId: v.pipe(
			v.optional(SendFrame.entries.clientId),
			v.description('Yours, unique per message: makes a retry safe.')
		)
	}),
	status: 201,
	response: MessageAnswer,
	responseDescription: 'Posted (201), or posted before with this `clientId` (200).',
	errors: {
		400: 'An empty message, or a body that is not `{"text": …}`.',
		403: 'The bot may no longer post in its room (it was removed or banned).',
		404: 'No such webhook: it was never made, or was deleted or replaced.',
		413: 'The message is too long.',
		429: 'Too many posts: wait `Retry-After` seconds.'
	},
	handle: async ({ db, env, params, body }) => {
		const found = await webhookBot(db, params.id, params.secret);
		if (!found) {
			throw new ApiError(
				404,
				'not_found',
				'No such webhook: it may have been deleted or replaced.'
			);
		}
		const rate = await consumeRateLimits(db, [[RateLimits.webhookPerHook, params.id]]);
		if (!rate.ok) throw tooFast(rate.retryAfterSeconds);
		const { bot, roomId } = found;
		// The bot's access to its room, by the room's rules, every time: removed or banned, it is
		// refused as any member would be.
		const access = await loadRoomAccess(db, roomId, bot.id);
		const decision = decideRoom(access, 'read');
		if (!decision.ok) refused(decision);
		const { stored, duplicate } = await changeRoom(
			env,
			sessionUserOf(bot),
			roomId,
			access.membership!.role,
			{ type: 'send', clientId: body.clientId ?? `hook:${generateId()}`, body: body.text }
		);
		return json({ message: stored }, { status: duplicate ? 200 : 201 });
	}
});
