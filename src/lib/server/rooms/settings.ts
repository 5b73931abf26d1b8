// A member's own settings for one room: how loudly it notifies, pinned, archived.
import { and, eq } from 'drizzle-orm';
import { authorizeRoom } from './authz';
import type { Db } from '$lib/server/db';
import { memberships } from '$shared/db/schema';
import type { Actor, Done } from '$lib/server/outcome';
import { refreshAudience, type Realtime } from '$lib/server/realtime/effects';

export type MemberSettings = {
	notify: 'all' | 'mentions' | 'mute';
	pinned: boolean;
	archived: boolean;
};

export async function updateMemberSettings(
	db: Db,
	rt: Realtime,
	actor: Pick<Actor, 'id'>,
	roomId: string,
	settings: MemberSettings
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'configure');
	if (!auth.ok) return auth;
	await db
		.update(memberships)
		.set(settings)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, actor.id)));
	await refreshAudience(rt, roomId);
	return { ok: true };
}
