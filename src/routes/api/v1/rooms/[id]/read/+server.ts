import * as v from 'valibot';
import { endpoint } from '$lib/server/api/endpoint';
import { changeRoom } from '$lib/server/api/room-changes';
import { RoomPath } from '$lib/server/api/schemas';
import { ReadFrame } from '$shared/protocol';

export const POST = endpoint({
	summary: 'Mark read',
	description:
		'Marks the room read up to `seq` (never back, never past the newest message). Your unread count follows, on every device; people who see read receipts see yours, if you share them.',
	tag: 'Messages',
	scope: 'write',
	rooms: 'path',
	params: RoomPath,
	body: v.object({ seq: ReadFrame.entries.seq }),
	status: 204,
	errors: { 404: 'No such room, or not one you can see.' },
	handle: async (ctx) => {
		const { params, body, env } = ctx;
		const { membership } = await ctx.room(params.id, 'read');
		await changeRoom(env, ctx.user, params.id, membership!.role, { type: 'read', seq: body.seq });
	}
});
