import { error, redirect } from '@sveltejs/kit';
import { decideRoom, loadRoomAccess } from '$lib/server/authz';
import { getDb, platformEnv } from '$lib/server/db';
import { peerNameOf } from '$lib/server/direct-rooms';
import { readHistory } from '$lib/server/history';
import { roomStub } from '$lib/server/realtime-door';
import { joinPublicRoom } from '$lib/server/room-members';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, params, platform, url }) => {
	if (!locals.user) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
	const env = platformEnv(platform);
	const db = getDb(env.DB);
	const access = await loadRoomAccess(db, params.id, locals.user.id);
	const view = decideRoom(access, 'view');
	if (!view.ok) error(view.status, { message: view.message, code: view.code });
	const room = access.room!;
	const name = await peerNameOf(db, room, locals.user.id);
	const summary = { id: room.id, name, kind: room.kind, memberCount: room.memberCount };
	if (!decideRoom(access, 'read').ok) return { room: summary, member: false as const };
	const history = await readHistory(db, roomStub(env.ROOMS, room.id), room.id, {});
	return { room: summary, member: true as const, history };
};

export const actions: Actions = {
	join: async ({ locals, params, platform }) => {
		if (!locals.user) redirect(303, '/login');
		const joined = await joinPublicRoom(getDb(platformEnv(platform).DB), locals.user, params.id);
		if (!joined.ok) error(joined.status, { message: joined.message, code: joined.code });
		redirect(303, `/rooms/${params.id}`);
	}
};
