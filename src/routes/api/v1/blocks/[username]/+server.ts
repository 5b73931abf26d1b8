import { done, endpoint } from '$lib/server/api/endpoint';
import { PersonPath, personIdOf } from '$lib/server/api/people-schemas';
import { blockUser, unblockUser } from '$lib/server/people/blocks';

export const PUT = endpoint({
	summary: 'Block a person',
	description:
		'Ends any friendship or request between you, hides each of you from the other, and shuts your direct conversation for both of you at once (it comes back if you unblock them).',
	tag: 'People',
	scope: 'write',
	params: PersonPath,
	status: 204,
	errors: {
		400: 'The username is not valid, or it is your own.',
		404: 'No such person.',
		409: 'You already blocked them.'
	},
	handle: async ({ db, rt, user, params }) => {
		const personId = await personIdOf(db, params.username);
		done(await blockUser(db, rt, user.id, personId));
	}
});

export const DELETE = endpoint({
	summary: 'Unblock a person',
	description:
		'Lifts your block. Friendships and requests it ended do not come back; your direct conversation does, unless they blocked you too.',
	tag: 'People',
	scope: 'write',
	params: PersonPath,
	status: 204,
	errors: { 404: 'No such person, or you have not blocked them.' },
	handle: async ({ db, rt, user, params }) => {
		const personId = await personIdOf(db, params.username);
		done(await unblockUser(db, rt, user.id, personId));
	}
});
