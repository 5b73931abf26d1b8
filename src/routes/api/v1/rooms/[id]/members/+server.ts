import { done, endpoint } from '$lib/server/api/endpoint';
import { AddMember, MemberList, MembersQuery, membersCursor } from '$lib/server/api/room-schemas';
import { RoomPath } from '$lib/server/api/schemas';
import { addMember, listMembers } from '$lib/server/rooms/members';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';

export const GET = endpoint({
	summary: 'Members',
	description:
		'Who is in the room, in the app’s order: the owner, then admins, then members, each by name. Paged by `cursor` while `nextCursor` is not null.',
	tag: 'Members',
	scope: 'read',
	rooms: 'path',
	params: RoomPath,
	query: MembersQuery,
	response: MemberList,
	errors: {
		403: 'Not a member of the room (a public room must be joined first), banned, or a direct conversation closed by a block.',
		404: 'No such room, or not one you can see.'
	},
	handle: async ({ params, query, db, room }) => {
		await room(params.id, 'read');
		// One more than asked, to know whether a page follows.
		const page = await listMembers(db, params.id, {
			after: query.cursor,
			limit: query.limit + 1
		});
		const more = page.length > query.limit;
		const members = page.slice(0, query.limit);
		return { members, nextCursor: membersCursor(members.at(-1), more) };
	}
});

export const POST = endpoint({
	summary: 'Add a member',
	description:
		'Adds a friend of yours to the room by username (admins and the owner). They are told, and it is told in the room’s timeline. Anyone else can be sent an invite link.',
	tag: 'Members',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: AddMember,
	status: 204,
	errors: {
		400: 'A direct conversation, which has no members to manage.',
		403: 'Not an admin of the room; the person is not a friend of yours, or you blocked them.',
		404: 'No such room, or no one by that username.',
		409: 'Already a member, or banned from the room (unban them first).'
	},
	handle: async (ctx) => {
		const { params, body, db, rt, actor, env } = ctx;
		await ctx.room(params.id, 'add_member');
		done(await addMember(db, rt, actor, params.id, body.username, e2eeMaxMembers(env)));
	}
});
