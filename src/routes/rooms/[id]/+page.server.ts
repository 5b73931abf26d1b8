import { error, redirect } from '@sveltejs/kit';
import { getDb, platformEnv } from '$lib/server/db';
import { readHistory, readHistoryAround } from '$lib/server/history';
import { roomStub } from '$lib/server/realtime-door';
import { listRoomMembers } from '$lib/server/room-members';
import { getMembership, getRoom, grantMembership } from '$lib/server/rooms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, platform, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
	const env = platformEnv(platform);
	const db = getDb(env.DB);
	const [room, membership] = await Promise.all([
		getRoom(db, params.id),
		getMembership(db, params.id, locals.user.id)
	]);
	if (!room || (!membership && room.kind !== 'public')) error(404, 'This room does not exist.');
	const summary = { id: room.id, name: room.name, kind: room.kind, memberCount: room.memberCount };
	if (!membership) return { room: summary, member: false as const };

	// `?m=seq` links to one message: the history around it, instead of the newest.
	const jumpTo = /^\d{1,15}$/.test(url.searchParams.get('m') ?? '')
		? Math.max(1, Number(url.searchParams.get('m')))
		: null;
	const stub = roomStub(env.ROOMS, room.id);
	// Read before the history: every change after it reaches the page through its first hello.
	const rev = await stub.revision();
	const [history, members] = await Promise.all([
		jumpTo !== null
			? readHistoryAround(db, stub, room.id, jumpTo)
			: readHistory(db, stub, room.id, {}).then((page) => ({
					messages: page.messages,
					hasOlder: page.hasMore,
					hasNewer: false
				})),
		listRoomMembers(db, room.id)
	]);
	return {
		room: summary,
		member: true as const,
		history,
		members,
		jumpTo,
		rev,
		readSeq: membership.lastReadSeq,
		role: membership.role
	};
};

export const actions: Actions = {
	join: async ({ locals, params, platform }) => {
		if (!locals.user) redirect(303, '/login');
		const db = getDb(platformEnv(platform).DB);
		const room = await getRoom(db, params.id);
		if (!room || room.kind !== 'public') error(404, 'This room does not exist.');
		await grantMembership(db, room.id, locals.user.id);
		redirect(303, `/rooms/${room.id}`);
	}
};
