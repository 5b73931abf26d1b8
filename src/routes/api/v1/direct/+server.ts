import { json } from '@sveltejs/kit';
import { done, endpoint } from '$lib/server/api/endpoint';
import { DirectAnswer, PersonBody, personIdOf } from '$lib/server/api/people-schemas';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { listConversations } from '$lib/server/rooms/rooms';

export const POST = endpoint({
	summary: 'Open a direct conversation',
	description:
		'The conversation between you and the person, created the first time, as the Message button on their profile opens it. A new one needs their consent by their message setting: friends only, or everyone. One that exists reopens whatever the setting, unless a block shut it. Send messages to it with `POST /api/v1/rooms/{id}/messages`.',
	tag: 'People',
	scope: 'write',
	body: PersonBody,
	status: 201,
	response: DirectAnswer,
	responseDescription:
		'Created (201), or the conversation you already had (200), as `GET /api/v1/rooms` lists it.',
	errors: {
		400: 'The username is not valid, or it is your own.',
		403: 'A block between you (either way), or they take messages only from friends.',
		404: 'No such person.'
	},
	handle: async ({ db, user, body }) => {
		const personId = await personIdOf(db, body.username);
		const { roomId, created } = done(await findOrCreateDirectRoom(db, user.id, personId));
		// Answered as the room list shows it, so a client can put it straight into its list.
		const room = (await listConversations(db, user.id)).find((r) => r.id === roomId);
		if (!room) throw new Error(`direct room ${roomId} missing from its member's list`);
		return json({ room }, { status: created ? 201 : 200 });
	}
});
