// Group chats: created by one person with some of their friends, invite-only from then on.
import { deny, type Actor, type Done } from '$lib/server/outcome';
import type { Db } from '$lib/server/db';
import { memberships } from '$shared/db/schema';
import { createRoom, syncMemberCount } from './rooms';
import { generateId } from '$lib/server/ids';
import {
	DEFAULT_E2EE_MAX_MEMBERS,
	encryptedRoomFull,
	encryptRoomObject
} from '$lib/server/e2ee/rooms';
import { notifyUser, postSystemMessage, type Realtime } from '$lib/server/realtime/effects';
import { listFriends } from '$lib/server/people/friends';
import { addToInbox } from '$lib/server/notifications/inbox';

export const MAX_GROUP_INVITEES = 50;

export async function createGroup(
	db: Db,
	rt: Realtime,
	creator: Actor,
	input: { name: string; description: string; memberIds: string[]; encrypted?: boolean },
	e2eeMax = DEFAULT_E2EE_MAX_MEMBERS
): Promise<Done<{ roomId: string }>> {
	const wanted = [...new Set(input.memberIds)].filter((id) => id !== creator.id);
	if (wanted.length > MAX_GROUP_INVITEES) {
		return deny(400, 'bad_target', `Add at most ${MAX_GROUP_INVITEES} people at once.`);
	}
	const full =
		input.encrypted &&
		encryptedRoomFull({ encryption: 'mls', memberCount: 0 }, e2eeMax, wanted.length + 1);
	if (full) return full;
	const { friends } = await listFriends(db, creator.id);
	const byId = new Map(friends.map((f) => [f.id, f]));
	const invitees = wanted.map((id) => byId.get(id));
	if (invitees.some((f) => f === undefined)) {
		return deny(403, 'not_friends', 'You can add only your friends; send others an invite link.');
	}
	const id = generateId();
	// The room object first: an encrypted room never takes a word in the clear.
	if (input.encrypted) await encryptRoomObject(rt, id);
	const room = await createRoom(db, {
		id,
		kind: 'group',
		name: input.name,
		description: input.description,
		createdBy: creator.id,
		encryption: input.encrypted ? 'mls' : null
	});
	if (wanted.length > 0) {
		const joinedAt = Date.now();
		await db.batch([
			db
				.insert(memberships)
				.values(
					wanted.map((userId) => ({ roomId: room.id, userId, role: 'member' as const, joinedAt }))
				)
				.onConflictDoNothing(),
			syncMemberCount(db, room.id)
		]);
	}
	await postSystemMessage(
		rt,
		room.id,
		creator,
		`${creator.displayName} created the group${input.encrypted ? ' with end-to-end encryption' : ''}`
	);
	for (const friend of invitees) {
		await postSystemMessage(
			rt,
			room.id,
			creator,
			`${creator.displayName} added ${friend!.displayName}`
		);
	}
	await Promise.all(
		wanted.flatMap((userId) => [
			notifyUser(rt, userId, { type: 'membership', roomId: room.id, change: 'added' }),
			addToInbox(db, rt, { kind: 'group_added', userId, actorId: creator.id, roomId: room.id })
		])
	);
	return { ok: true, roomId: room.id };
}
