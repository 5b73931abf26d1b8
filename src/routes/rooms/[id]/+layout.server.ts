import { ROOM_MEMBERS_DEPENDENCY } from '$lib/conversations';
import { roomPictures } from '$lib/server/files/pictures';
import { fileUrl } from '$lib/server/files/store';
import { decideRoom } from '$lib/server/rooms/authz';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { requireSignedIn, roomAccessFor } from '$lib/server/request-context';
import { toRoomTheme } from '$lib/ui/room-theme';
import type { LayoutServerLoad } from './$types';

/**
 * The reader's own theme for this room, and the room's name as they see it (the peer's, in a
 * direct conversation) for the way back from its sub-pages; null when they are not (yet) a member.
 * And the pictures its pages show (`Avatar` finds them by id): the members' and the room's icon,
 * reloaded with the member list.
 */
export const load: LayoutServerLoad = async (event) => {
	event.depends(ROOM_MEMBERS_DEPENDENCY);
	const none = { roomTheme: null, roomName: null, pictures: {} as Record<string, string> };
	if (!event.locals.user) return none;
	const { db, user } = requireSignedIn(event);
	const access = await roomAccessFor(event, event.params.id);
	const membership = decideRoom(access, 'configure').ok ? access.membership : null;
	if (!membership || !access.room) {
		// A public room seen before joining: its icon, which anyone who may find it sees.
		const icon = access.room?.iconKey;
		return icon && decideRoom(access, 'view').ok
			? { ...none, pictures: { [access.room!.id]: fileUrl(icon) } }
			: none;
	}
	const [roomName, pictures] = await Promise.all([
		peerNameOf(db, access.room, user.id),
		decideRoom(access, 'read').ok ? roomPictures(db, access.room, user.id) : {}
	]);
	return {
		roomTheme: toRoomTheme(membership.themeAccent, membership.themeBackground),
		roomName,
		pictures
	};
};
