import { CONVERSATIONS_DEPENDENCY } from '$lib/conversations';
import { getDb, platformEnv } from '$lib/server/db';
import { listConversations } from '$lib/server/rooms/rooms';
import { isProduction } from '$lib/server/app-env';
import type { LayoutServerLoad } from './$types';

/** Only what the pages need of the user reaches the browser. */
export const load: LayoutServerLoad = async ({ depends, locals, platform }) => {
	depends(CONVERSATIONS_DEPENDENCY);
	if (!locals.user) return { user: null, conversations: [], devMail: false };
	const { id, username, displayName, emailVerified, picture = null } = locals.user;
	const env = platformEnv(platform);
	return {
		user: { id, username, displayName, emailVerified, picture },
		conversations: await listConversations(getDb(env.DB), id),
		// In development no mail leaves the machine: the banner says where it went instead.
		devMail: !isProduction(env)
	};
};
