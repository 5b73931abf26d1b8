import { ApiError, endpoint } from '$lib/server/api/endpoint';
import { PersonPath, ProfileAnswer } from '$lib/server/api/people-schemas';
import { getProfile } from '$lib/server/people/people';

export const GET = endpoint({
	summary: 'A person’s profile',
	description:
		'The profile as their page shows it: bio, status, how you stand with them, your mutual friends, whether you may message them and your conversation if there is one. Someone who blocked you is answered as missing; someone you blocked is shown (`blockedByMe`), so you can unblock them.',
	tag: 'People',
	scope: 'read',
	params: PersonPath,
	response: ProfileAnswer,
	errors: { 404: 'No such person (or they blocked you).' },
	handle: async ({ db, user, params }) => {
		const person = await getProfile(db, user.id, params.username);
		if (!person) throw new ApiError(404, 'not_found', 'There is no such person.');
		return { person };
	}
});
