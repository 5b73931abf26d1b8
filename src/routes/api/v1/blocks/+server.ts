import { endpoint } from '$lib/server/api/endpoint';
import { BlockedAnswer } from '$lib/server/api/people-schemas';
import { listBlocked } from '$lib/server/people/blocks';

export const GET = endpoint({
	summary: 'People I blocked',
	description: 'Everyone I blocked, in order of username.',
	tag: 'People',
	scope: 'read',
	response: BlockedAnswer,
	handle: async ({ db, user }) => ({ blocked: await listBlocked(db, user.id) })
});
