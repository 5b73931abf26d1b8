import { decideRoom, loadRoomAccess } from '$lib/server/rooms/authz';
import { getDb, platformEnv } from '$lib/server/db';
import { toRoomTheme } from '$lib/ui/room-theme';
import type { LayoutServerLoad } from './$types';

/** The reader's own theme for this room; null when they are not (yet) a member. */
export const load: LayoutServerLoad = async ({ locals, params, platform }) => {
	if (!locals.user) return { roomTheme: null };
	const access = await loadRoomAccess(getDb(platformEnv(platform).DB), params.id, locals.user.id);
	const membership = decideRoom(access, 'configure').ok ? access.membership : null;
	return {
		roomTheme: membership ? toRoomTheme(membership.themeAccent, membership.themeBackground) : null
	};
};
