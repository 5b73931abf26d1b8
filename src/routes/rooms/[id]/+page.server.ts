import { error, redirect } from '@sveltejs/kit';
import { getDb, platformEnv } from '$lib/server/db';
import { readHistory } from '$lib/server/history';
import { roomStub } from '$lib/server/realtime-door';
import { getMembership, getRoom, grantMembership } from '$lib/server/rooms';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, platform, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
	const env = platformEnv(platform);
	const db = getDb(env.DB);
	const [room, membership] = await Promise.all([
		getRoom(db, params.id),
		getMembership(db, params.id, locals.user.id)
	]);
	if (!room || (!membership && room.kind !== 'public')) error(404, 'This room does not exist.');
	const summary = { id: room.id, name: room.name, kind: room.kind, memberCount: room.memberCount };
	if (!membership) return { room: summary, member: false as const };
	const history = await readHistory(db, roomStub(env.ROOMS, room.id), room.id, {});
	return { room: summary, member: true as const, history };
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
