// Who may manage a bot: the owner and admins of the room it belongs to (as editing the room).
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { users } from '$shared/db/schema';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { recordAudit } from '$lib/server/moderation/audit';

/** The bot, if it belongs to this room and the actor may manage the room's bots. */
export async function authorizeBot(
	db: Db,
	actor: Actor,
	roomId: string,
	botId: string
): Promise<Done<{ bot: typeof users.$inferSelect }>> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'edit');
	if (!auth.ok) return auth;
	const [bot] = await db
		.select()
		.from(users)
		.where(and(eq(users.id, botId), eq(users.botRoomId, roomId), isNull(users.deletedAt)))
		.limit(1);
	if (!bot) return deny(404, 'not_found', 'This room has no such bot.');
	return { ok: true, bot };
}

/** A room admin's change to one of the room's bots (made, its credentials, removed), audited. */
export async function auditBot(
	db: Db,
	actor: Actor,
	roomId: string,
	botId: string,
	action: string,
	details: Record<string, unknown> = {}
): Promise<void> {
	await recordAudit(db, {
		actorId: actor.id,
		actorRole: 'room_admin',
		action,
		targetKind: 'user',
		targetId: botId,
		roomId,
		details
	});
}
