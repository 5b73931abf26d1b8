import { endpoint } from '$lib/server/api/endpoint';
import { Me } from '$lib/server/api/schemas';

export const GET = endpoint({
	summary: 'Who I am',
	description:
		'The signed-in person, and how this request signed in (for a token: its scope and rooms).',
	tag: 'Me',
	scope: 'read',
	rooms: 'own',
	response: Me,
	handle: async ({ user, via, grant }) => ({
		id: user.id,
		username: user.username,
		displayName: user.displayName,
		picture: user.picture ?? null,
		email: user.email,
		emailVerified: user.emailVerified,
		kind: user.bot ? 'bot' : 'person',
		via,
		token: grant && { id: grant.id, scope: grant.scope, rooms: grant.rooms && [...grant.rooms] }
	})
});
