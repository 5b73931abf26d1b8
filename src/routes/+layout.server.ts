import { CONVERSATIONS_DEPENDENCY } from '$lib/conversations';
import { getDb, platformEnv } from '$lib/server/db';
import { listConversations } from '$lib/server/rooms/rooms';
import { getQuietHours } from '$lib/server/notifications/preferences';
import { isProduction } from '$lib/server/app-env';
import { isSiteAdmin } from '$lib/server/moderation/site-admin';
import { countUnreadNotifications } from '$shared/db/notifications';
import { NO_QUIET_HOURS } from '$shared/notify';
import type { LayoutServerLoad } from './$types';

/** Only what the pages need of the user reaches the browser. */
export const load: LayoutServerLoad = async ({ depends, locals, platform }) => {
	depends(CONVERSATIONS_DEPENDENCY);
	if (!locals.user) {
		return {
			user: null,
			conversations: [],
			listedAt: 0,
			quiet: NO_QUIET_HOURS,
			inboxUnread: 0,
			devMail: false
		};
	}
	const { id, username, displayName, emailVerified, picture = null } = locals.user;
	const env = platformEnv(platform);
	const db = getDb(env.DB);
	const [conversations, quiet, inboxUnread] = await Promise.all([
		listConversations(db, id),
		// Do not disturb, for the notifications an open tab shows while hidden.
		getQuietHours(db, id),
		countUnreadNotifications(db, id)
	]);
	return {
		// The account menu links to the admin area for site admins only.
		user: {
			id,
			username,
			displayName,
			emailVerified,
			picture,
			siteAdmin: isSiteAdmin(env, locals.user)
		},
		conversations,
		// When the list was made: a page answered from the offline cache shows the newer one the
		// browser kept instead.
		listedAt: Date.now(),
		quiet,
		// The bell's count until the user hub answers with the live one.
		inboxUnread,
		// In development no mail leaves the machine: the banner says where it went instead.
		devMail: !isProduction(env)
	};
};
