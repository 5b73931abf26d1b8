import { endpoint } from '$lib/server/api/endpoint';
import { BanList, BansQuery, bansCursor } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { listBans } from '$lib/server/rooms/members';

export const GET = endpoint({
	summary: 'Banned people',
	description:
		'Who is banned from the room, by username (admins and the owner). Paged by `cursor` while `nextCursor` is not null.',
	tag: 'Members',
	scope: 'read',
	rooms: 'path',
	params: RoomPath,
	query: BansQuery,
	response: BanList,
	errors: {
		400: 'A direct conversation, which bans nobody.',
		403: 'Not an admin of the room, or banned from it.',
		404: 'No such room, or not one you can see.'
	},
	handle: async ({ params, query, db, room }) => {
		await room(params.id, 'ban');
		const page = await listBans(db, params.id, { after: query.cursor, limit: query.limit + 1 });
		const more = page.length > query.limit;
		const bans = page.slice(0, query.limit);
		return { bans, nextCursor: bansCursor(bans.at(-1), more) };
	}
});
