// Signing a session out must also end what it already has open: a WebSocket is authenticated once,
// at the door, so without this a revoked session's tabs would keep receiving every message of
// their rooms. Sockets carry their session as a tag, so the user's other sessions stay connected.
import { hubStub, roomStub } from '$shared/objects';
import { eq } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { memberships } from '$shared/db/schema';
import type { Realtime } from './effects';

/**
 * Closes the sockets of the given (already deleted) sessions in the user's hub and in every room
 * they belong to. Asks each room rather than tracking open sockets: signing out is rare, and a
 * room without such a socket answers at once. A failed room is retried once and then logged;
 * the door already refuses the session, so a socket left open cannot reconnect once it drops.
 */
export async function closeSessionSockets(
	db: Db,
	rt: Realtime,
	userId: string,
	sessionIds: string[]
): Promise<void> {
	if (sessionIds.length === 0) return;
	const rooms = await db
		.select({ roomId: memberships.roomId })
		.from(memberships)
		.where(eq(memberships.userId, userId));
	const calls = [
		() => hubStub(rt.hubs, userId).endSessions(sessionIds),
		...rooms.map(
			({ roomId }) =>
				() =>
					roomStub(rt.rooms, roomId).endSessions(sessionIds)
		)
	];
	await Promise.all(
		calls.map((call) =>
			call()
				.catch(call)
				.catch((err: unknown) => console.warn('closing a signed-out session’s sockets failed', err))
		)
	);
}
