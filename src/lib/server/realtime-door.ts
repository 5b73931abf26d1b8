import { eq } from 'drizzle-orm';
import { withIdentity } from '../../../workers/realtime/src/identity';
import { withUserIdentity } from '../../../workers/realtime/src/user-identity';
import { authorizeRoom } from './authz';
import type { Db } from './db';
import { users } from './db/schema';
import { validateSessionToken } from './session';

export const ROOM_SOCKET_PATH = /^\/ws\/room\/([a-z0-9]{1,64})$/;
export const USER_SOCKET_PATH = '/ws/me';

export type DoorDeps = { db: Db; rooms: Env['ROOMS']; hubs: Env['HUBS'] };

/**
 * The only way into the realtime worker. Authenticates the session, asks authz whether the user
 * may read the room (membership, bans, blocks: all in D1, every time), and forwards the upgrade
 * with the trusted identity; everything else gets a plain HTTP error and no object sees it.
 */
export async function openRealtimeSocket(
	request: Request,
	deps: DoorDeps,
	sessionToken: string | undefined
): Promise<Response> {
	const path = new URL(request.url).pathname;
	if (path === USER_SOCKET_PATH) return openUserSocket(request, deps, sessionToken);
	return openRoomSocket(request, deps, sessionToken);
}

export async function openRoomSocket(
	request: Request,
	deps: Pick<DoorDeps, 'db' | 'rooms'>,
	sessionToken: string | undefined
): Promise<Response> {
	const match = ROOM_SOCKET_PATH.exec(new URL(request.url).pathname);
	if (!match) return plain(404, 'Unknown room.');
	if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
		return plain(426, 'Expected a WebSocket upgrade.');
	}
	const signedIn = await authenticate(deps.db, sessionToken);
	if (!signedIn) return plain(401, 'Sign in first.');
	const { user, session } = signedIn;

	const roomId = match[1]!;
	const [decision, [prefs]] = await Promise.all([
		authorizeRoom(deps.db, user.id, roomId, 'read'),
		deps.db
			.select({ readReceipts: users.sendReadReceipts })
			.from(users)
			.where(eq(users.id, user.id))
			.limit(1)
	]);
	if (!decision.ok) return plain(decision.status, decision.message);
	const membership = decision.membership;
	if (!membership) return plain(403, 'You are not a member of this room.');

	const stub = deps.rooms.get(deps.rooms.idFromName(roomId));
	return stub.fetch(
		withIdentity(request, {
			roomId,
			userId: user.id,
			userName: user.displayName,
			username: user.username,
			role: membership.role,
			readReceipts: prefs?.readReceipts ?? true,
			sessionId: session.id
		})
	);
}

/** `/ws/me`: the signed-in user's own hub, whatever page the tab is on. */
export async function openUserSocket(
	request: Request,
	deps: Pick<DoorDeps, 'db' | 'hubs'>,
	sessionToken: string | undefined
): Promise<Response> {
	if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
		return plain(426, 'Expected a WebSocket upgrade.');
	}
	const signedIn = await authenticate(deps.db, sessionToken);
	if (!signedIn) return plain(401, 'Sign in first.');
	const { user, session } = signedIn;
	const stub = deps.hubs.get(deps.hubs.idFromName(user.id));
	return stub.fetch(withUserIdentity(request, { userId: user.id, sessionId: session.id }));
}

export function roomStub(rooms: Env['ROOMS'], roomId: string) {
	return rooms.get(rooms.idFromName(roomId));
}

async function authenticate(db: Db, token: string | undefined) {
	if (!token) return null;
	const { user, session } = await validateSessionToken(db, token);
	return user && session ? { user, session } : null;
}

function plain(status: number, message: string): Response {
	return new Response(message, {
		status,
		headers: { 'content-type': 'text/plain; charset=utf-8' }
	});
}
