import { eq } from 'drizzle-orm';
import { withIdentity } from '../../../workers/realtime/src/identity';
import type { Db } from './db';
import { users } from './db/schema';
import { getMembership, getRoom } from './rooms';
import { validateSessionToken } from './session';

export const ROOM_SOCKET_PATH = /^\/ws\/room\/([a-z0-9]{1,64})$/;

/**
 * The only way into a room object. Authenticates the session, checks membership in D1, and
 * forwards the upgrade with the trusted identity; everything else gets a plain HTTP error and the
 * object never sees it.
 */
export async function openRoomSocket(
	request: Request,
	deps: { db: Db; rooms: Env['ROOMS'] },
	sessionToken: string | undefined
): Promise<Response> {
	const match = ROOM_SOCKET_PATH.exec(new URL(request.url).pathname);
	if (!match) return plain(404, 'Unknown room.');
	if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
		return plain(426, 'Expected a WebSocket upgrade.');
	}
	if (!sessionToken) return plain(401, 'Sign in first.');
	const { user } = await validateSessionToken(deps.db, sessionToken);
	if (!user) return plain(401, 'Sign in first.');

	const roomId = match[1]!;
	const [room, membership, [prefs]] = await Promise.all([
		getRoom(deps.db, roomId),
		getMembership(deps.db, roomId, user.id),
		deps.db
			.select({ readReceipts: users.sendReadReceipts })
			.from(users)
			.where(eq(users.id, user.id))
			.limit(1)
	]);
	if (!room) return plain(404, 'Unknown room.');
	if (!membership) return plain(403, 'You are not a member of this room.');

	const stub = deps.rooms.get(deps.rooms.idFromName(roomId));
	return stub.fetch(
		withIdentity(request, {
			roomId,
			userId: user.id,
			userName: user.displayName,
			username: user.username,
			role: membership.role,
			readReceipts: prefs?.readReceipts ?? true
		})
	);
}

export function roomStub(rooms: Env['ROOMS'], roomId: string) {
	return rooms.get(rooms.idFromName(roomId));
}

function plain(status: number, message: string): Response {
	return new Response(message, {
		status,
		headers: { 'content-type': 'text/plain; charset=utf-8' }
	});
}
