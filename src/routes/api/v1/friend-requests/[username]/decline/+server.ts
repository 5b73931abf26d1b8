import { done, endpoint } from '$lib/server/api/endpoint';
import { PersonPath, personIdOf } from '$lib/server/api/people-schemas';
import { declineFriendRequest } from '$lib/server/people/friends';

export const POST = endpoint({
	summary: 'Decline a friend request',
	description: 'Declines the request the person sent me. They may ask again.',
	tag: 'Friends',
	scope: 'write',
	params: PersonPath,
	status: 204,
	errors: { 404: 'No such person, or no request from them waiting for me.' },
	handle: async ({ db, rt, user, params }) => {
		const personId = await personIdOf(db, params.username);
		done(await declineFriendRequest(db, rt, user.id, personId));
	}
});
