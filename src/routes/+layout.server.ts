import { CONVERSATIONS_DEPENDENCY } from '$lib/conversations';
import { getDb, platformEnv } from '$lib/server/db';
import { listConversations } from '$lib/server/rooms/rooms';
import type { LayoutServerLoad } from './$types';

/** Only what the pages need of the user reaches the browser. */
export const load: LayoutServerLoad = async ({ depends, locals, platform }) => {
	depends(CONVERSATIONS_DEPENDENCY);
	if (!locals.user) return { user: null, conversations: [] };
	const { id, username, displayName, emailVerified } = locals.user;
	return {
		user: { id, username, displayName, emailVerified },
		conversations: await listConversations(getDb(platformEnv(platform).DB), id)
	};
};
