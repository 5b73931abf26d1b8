import { error, redirect } from '@sveltejs/kit';
import { decideRoom } from '$lib/server/rooms/authz';
import { requireSignedIn, roomAccessFor } from '$lib/server/request-context';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { readHistory, readHistoryAround } from '$lib/server/rooms/history';
import { roomStub } from '$shared/objects';
import { fileLimits } from '$lib/server/files/limits';
import { joinPublicRoom, listMembers } from '$lib/server/rooms/members';
import { e2eeMaxMembers } from '$lib/server/e2ee/rooms';
import { ROOM_MEMBERS_DEPENDENCY } from '$lib/conversations';
import { markRoomRead } from '$lib/server/notifications/inbox';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
	const { depends, params, url } = event;
	depends(ROOM_MEMBERS_DEPENDENCY);
	const { user, env, db, rt } = requireSignedIn(event);
	const access = await roomAccessFor(event, params.id);
	const view = decideRoom(access, 'view');
	if (!view.ok) error(view.status, { message: view.message, code: view.code });
	const room = access.room!;
	const name = await peerNameOf(db, room, user.id);
	const summary = {
		id: room.id,
		name,
		kind: room.kind,
		memberCount: room.memberCount,
		encrypted: room.encryption === 'mls'
	};
	const membership = access.membership;
	if (!membership || !decideRoom(access, 'read').ok) {
		return { room: summary, member: false as const };
	}

	// `?m=seq` links to one message: the history around it, instead of the newest.
	const jumpTo = /^\d{1,15}$/.test(url.searchParams.get('m') ?? '')
		? Math.max(1, Number(url.searchParams.get('m')))
		: null;
	const stub = roomStub(env.ROOMS, room.id);
	// Read before the history and the members: every change after them reaches the page through
	// its first hello (messages), or shows in its first welcome (membership).
	const { rev, membersRev } = await stub.revisions();
	const [history, members] = await Promise.all([
		jumpTo !== null
			? readHistoryAround(db, stub, room.id, jumpTo)
			: readHistory(db, stub, room.id, {}).then((page) => ({
					messages: page.messages,
					hasOlder: page.hasMore,
					hasNewer: false
				})),
		listMembers(db, room.id),
		// Opening the room reads what the inbox says about it.
		markRoomRead(db, rt, user.id, room.id)
	]);
	return {
		room: summary,
		member: true as const,
		history,
		members,
		jumpTo,
		rev,
		membersRev,
		readSeq: membership.lastReadSeq,
		role: membership.role,
		// The composer refuses a larger file at once, naming the limit, instead of uploading it.
		fileMaxBytes: fileLimits(env).maxBytes
	};
};

export const actions: Actions = {
	join: async (event) => {
		const { user, db, env } = requireSignedIn(event);
		const joined = await joinPublicRoom(db, user, event.params.id, e2eeMaxMembers(env));
		if (!joined.ok) error(joined.status, { message: joined.message, code: joined.code });
		redirect(303, `/rooms/${event.params.id}`);
	}
};
