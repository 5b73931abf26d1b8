import { done, endpoint } from '$lib/server/api/endpoint';
import { PersonPath, personIdOf } from '$lib/server/api/people-schemas';
import { acceptFriendRequest } from '$lib/server/people/friends';

export const POST = endpoint({
	summary: 'Accept a friend request',
	description: 'Accepts the request the person sent me: we are friends, and they hear of it.',
	tag: 'Friends',
	scope: 'write',
	params: PersonPath,
	status: 204,
	errors: { 404: 'No such person, or no request from them waiting for me.' },
	handle: async ({ db, rt, user, params }) => {
		const personId = await personIdOf(db, params.username);
		done(await acceptFriendRequest(db, rt, user.id, personId));
	}
});
