import { done, endpoint } from '$lib/server/api/endpoint';
import { PersonPath, personIdOf } from '$lib/server/api/people-schemas';
import { cancelFriendRequest } from '$lib/server/people/friends';

export const DELETE = endpoint({
	summary: 'Cancel my friend request',
	description: 'Takes back a request I sent that they have not answered.',
	tag: 'Friends',
	scope: 'write',
	params: PersonPath,
	status: 204,
	errors: { 404: 'No such person, or no request of mine waiting for them.' },
	handle: async ({ db, rt, user, params }) => {
		const personId = await personIdOf(db, params.username);
		done(await cancelFriendRequest(db, rt, user.id, personId));
	}
});
