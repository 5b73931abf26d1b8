import { done, endpoint } from '$lib/server/api/endpoint';
import { PersonPath, personIdOf } from '$lib/server/api/people-schemas';
import { removeFriend } from '$lib/server/people/friends';

export const DELETE = endpoint({
	summary: 'Unfriend',
	description: 'Ends the friendship, for both of you. Your direct conversation stays.',
	tag: 'Friends',
	scope: 'write',
	params: PersonPath,
	status: 204,
	errors: { 404: 'No such person, or you are not friends.' },
	handle: async ({ db, rt, user, params }) => {
		const personId = await personIdOf(db, params.username);
		done(await removeFriend(db, rt, user.id, personId));
	}
});
