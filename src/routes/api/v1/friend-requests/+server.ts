import { done, endpoint } from '$lib/server/api/endpoint';
import { FriendRequestAnswer, PersonBody, personIdOf } from '$lib/server/api/people-schemas';
import { sendFriendRequest } from '$lib/server/people/friends';

export const POST = endpoint({
	summary: 'Send a friend request',
	description:
		'Asks the person to be friends; they hear of it at once. If they had already asked you, this accepts their request instead (`result: accepted`).',
	tag: 'Friends',
	scope: 'write',
	body: PersonBody,
	status: 201,
	response: FriendRequestAnswer,
	responseDescription: 'Requested, or (when they had asked first) accepted.',
	errors: {
		400: 'The username is not valid, or it is your own.',
		403: 'A block between you (either way).',
		404: 'No such person.',
		409: 'You are already friends, or you already asked.'
	},
	handle: async ({ db, rt, user, body }) => {
		const personId = await personIdOf(db, body.username);
		const { result } = done(await sendFriendRequest(db, rt, user.id, personId));
		return { result };
	}
});
