import { endpoint } from '$lib/server/api/endpoint';
import { PeopleAnswer, PeopleQuery } from '$lib/server/api/people-schemas';
import { SEARCH_LIMIT, searchPeople } from '$lib/server/people/people';

export const GET = endpoint({
	summary: 'Find people',
	description: `People whose username or display name starts with \`q\` (not case-sensitive), as the people search finds them: exact matches first, then friends, then everyone else, at most ${SEARCH_LIMIT}. People who blocked you, or whom you blocked, are not found. Each comes with how you stand with them (\`relation\`).`,
	tag: 'People',
	scope: 'read',
	query: PeopleQuery,
	response: PeopleAnswer,
	handle: async ({ db, user, query }) => ({ people: await searchPeople(db, user.id, query.q) })
});
