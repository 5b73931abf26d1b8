import { decideRoom } from '$lib/server/rooms/authz';
import { roomAccessFor } from '$lib/server/request-context';
import { toRoomTheme } from '$lib/ui/room-theme';
import type { LayoutServerLoad } from './$types';

/** The reader's own theme for this room; null when they are not (yet) a member. */
export const load: LayoutServerLoad = async (event) => {
	if (!event.locals.user) return { roomTheme: null };
	const access = await roomAccessFor(event, event.params.id);
	const membership = decideRoom(access, 'configure').ok ? access.membership : null;
	return {
		roomTheme: membership ? toRoomTheme(membership.themeAccent, membership.themeBackground) : null
	};
};
