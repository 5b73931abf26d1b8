import * as v from 'valibot';
import { endpoint } from '$lib/server/api/endpoint';
import { RoomSummary } from '$lib/server/api/schemas';
import { listConversations } from '$lib/server/rooms/rooms';

export const GET = endpoint({
	summary: 'My conversations',
	description:
		'Every room I am in, in the sidebar’s order (pinned first, then the most recently active). A token limited to some rooms lists only those.',
	tag: 'Rooms',
	scope: 'read',
	rooms: 'own',
	response: v.object({ rooms: v.array(RoomSummary) }),
	handle: async ({ db, user, grant }) => {
		const rooms = await listConversations(db, user.id);
		return { rooms: grant?.rooms ? rooms.filter((room) => grant.rooms!.has(room.id)) : rooms };
	}
});
