import { decideRoom } from '$lib/server/rooms/authz';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { requireSignedIn, roomAccessFor } from '$lib/server/request-context';
import { toRoomTheme } from '$lib/ui/room-theme';
import type { LayoutServerLoad } from './$types';

/**
 * The reader's own theme for this room, and the room's name as they see it (the peer's, in a
 * direct conversation) for the way back from its sub-pages; null when they are not (yet) a member.
 */
export const load: LayoutServerLoad = async (event) => {
	if (!event.locals.user) return { roomTheme: null, roomName: null };
	const { db, user } = requireSignedIn(event);
	const access = await roomAccessFor(event, event.params.id);
	const membership = decideRoom(access, 'configure').ok ? access.membership : null;
	if (!membership || !access.room) return { roomTheme: null, roomName: null };
	return {
		roomTheme: toRoomTheme(membership.themeAccent, membership.themeBackground),
		roomName: await peerNameOf(db, access.room, user.id)
	};
};
