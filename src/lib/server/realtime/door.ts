import { eq } from 'drizzle-orm';
import { withIdentity, withUserIdentity } from '$shared/identity';
import { hubStub, roomStub } from '$shared/objects';
import {
	accessOf,
	decideRoom,
	membershipOf,
	roomAccessColumns,
	type RoomAccess
} from '$lib/server/rooms/authz';
import type { Db } from '$lib/server/db';
import { memberships, rooms, sessions, users } from '$shared/db/schema';
import { hashSecret } from '$lib/server/ids';
import { checkSessionToken, sessionHolds } from '$lib/server/auth/session';
import { authenticateToken, tokenSessionId } from '$lib/server/api/tokens';

export const ROOM_SOCKET_PATH = /^\/ws\/room\/([a-z0-9]{1,64})$/;
export const USER_SOCKET_PATH = '/ws/me';

export type DoorDeps = { db: Db; rooms: Env['ROOMS']; hubs: Env['HUBS'] };

/**
 * The only way into the realtime worker. Authenticates the session, asks authz whether the user
 * may read the room (membership, bans, blocks: all in D1, every time, in one statement), and
 * forwards the upgrade with the trusted identity; everything else gets a plain HTTP error and no
 * object sees it.
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
	const refused = refuseUpgrade(request);
	if (refused) return refused;
	const roomId = match[1]!;
	const bearer = request.headers.get('authorization');
	let access: DoorAccess | null;
	let sessionId: string;
	let readOnly = false;
	if (bearer !== null) {
		// A script or a bot with an API token (browsers cannot set this header on a socket): the
		// token alone says who it is, whatever cookie came along.
		const token = /^Bearer\s+(\S+)\s*$/i.exec(bearer)?.[1];
		const found = token ? await authenticateToken(deps.db, token) : null;
		if (!found)
			return plain(401, 'The token is not valid: it may be mistyped, expired or revoked.');
		if (found.grant.rooms && !found.grant.rooms.has(roomId)) {
			return plain(403, 'This token is not allowed in that room.');
		}
		access = await loadTokenAccess(deps.db, found.user.id, roomId);
		sessionId = tokenSessionId(found.grant.id);
		readOnly = found.grant.scope === 'read';
	} else {
		if (!sessionToken) return plain(401, 'Sign in first.');
		sessionId = hashSecret(sessionToken);
		access = await loadDoorAccess(deps.db, sessionId, roomId, Date.now());
	}
	if (!access) return plain(401, 'Sign in first.');

	const decision = decideRoom(access, 'read');
	if (!decision.ok) return plain(decision.status, decision.message);
	const membership = access.membership;
	if (!membership) return plain(403, 'You are not a member of this room.');

	const stub = roomStub(deps.rooms, roomId);
	const forwarded = withIdentity(request, {
		roomId,
		userId: access.user.id,
		userName: access.user.displayName,
		username: access.user.username,
		role: membership.role,
		readReceipts: access.user.sendReadReceipts,
		sessionId,
		readOnly,
		bot: access.user.kind === 'bot',
		encrypted: access.room?.encryption === 'mls'
	});
	try {
		return await stub.fetch(forwarded);
	} catch (err) {
		// The runtime says the room cannot keep up: the client's backoff brings it back later, and
		// retrying here would only add to the load.
		if (isOverloaded(err)) {
			return plain(503, 'This room is busy; try again shortly.', {
				'retry-after': String(OVERLOADED_RETRY_AFTER_S)
			});
		}
		throw err;
	}
}

/** Seconds an overloaded room asks clients to wait; their jittered backoff spreads them out. */
const OVERLOADED_RETRY_AFTER_S = 2;

function isOverloaded(err: unknown): boolean {
	return (
		typeof err === 'object' && err !== null && (err as { overloaded?: unknown }).overloaded === true
	);
}

type DoorAccess = RoomAccess & {
	userId: string;
	user: {
		id: string;
		username: string;
		displayName: string;
		sendReadReceipts: boolean;
		kind: 'person' | 'bot';
	};
};

/**
 * Everything the door needs, in one D1 statement: the session and its user, the room, the
 * membership, a ban, and for direct rooms a block between the two people. Sockets open far more
 * often than pages load (every reconnect), so this is one round trip where a page makes two. It
 * is built from the pages' own pieces: the session rule `sessionHolds` (without the sliding
 * renewal, which only matters where a cookie can be set, not on an upgrade), `roomAccessColumns`
 * and `membershipOf`; the rules stay in `decideRoom`.
 */
async function loadDoorAccess(
	db: Db,
	sessionId: string,
	roomId: string,
	now: number
): Promise<DoorAccess | null> {
	const [row] = await db
		.select({
			session: { expiresAt: sessions.expiresAt, createdAt: sessions.createdAt },
			user: {
				id: users.id,
				username: users.username,
				displayName: users.displayName,
				sendReadReceipts: users.sendReadReceipts,
				kind: users.kind,
				deletedAt: users.deletedAt,
				suspendedAt: users.suspendedAt
			},
			...roomAccessColumns(users.id)
		})
		.from(sessions)
		.innerJoin(users, eq(users.id, sessions.userId))
		.leftJoin(rooms, eq(rooms.id, roomId))
		.leftJoin(memberships, membershipOf(users.id))
		.where(eq(sessions.id, sessionId))
		.limit(1);
	if (!row || !sessionHolds(row, now)) return null;
	return { ...accessOf(row.user.id, row), user: row.user, userId: row.user.id };
}

/**
 * For a token's socket: the person (the token was checked just before) and their access to the
 * room, by the same columns and rules as a session's. Two round trips rather than the session's
 * one: a bot connects rarely, a browser on every reconnect.
 */
async function loadTokenAccess(db: Db, userId: string, roomId: string): Promise<DoorAccess | null> {
	const [row] = await db
		.select({
			user: {
				id: users.id,
				username: users.username,
				displayName: users.displayName,
				sendReadReceipts: users.sendReadReceipts,
				kind: users.kind
			},
			...roomAccessColumns(users.id)
		})
		.from(users)
		.leftJoin(rooms, eq(rooms.id, roomId))
		.leftJoin(memberships, membershipOf(users.id))
		.where(eq(users.id, userId))
		.limit(1);
	if (!row) return null;
	return { ...accessOf(row.user.id, row), user: row.user, userId: row.user.id };
}

/** `/ws/me`: the signed-in user's own hub, whatever page the tab is on. */
export async function openUserSocket(
	request: Request,
	deps: Pick<DoorDeps, 'db' | 'hubs'>,
	sessionToken: string | undefined
): Promise<Response> {
	const refused = refuseUpgrade(request);
	if (refused) return refused;
	const signedIn = sessionToken ? await checkSessionToken(deps.db, sessionToken) : null;
	if (!signedIn) return plain(401, 'Sign in first.');
	const { user, session } = signedIn;
	const stub = hubStub(deps.hubs, user.id);
	return stub.fetch(withUserIdentity(request, { userId: user.id, sessionId: session.id }));
}

/**
 * What every upgrade must be before its session is even looked at: a WebSocket upgrade, and not
 * one started by another site's page. Browsers attach the cookie to a cross-site WebSocket (there
 * is no CORS for them) and always send `Origin`, so a foreign origin means someone else's page is
 * riding the person's session. Requests without `Origin` come from scripts and command-line
 * clients, which hold the cookie themselves.
 */
function refuseUpgrade(request: Request): Response | null {
	if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
		return plain(426, 'Expected a WebSocket upgrade.');
	}
	const origin = request.headers.get('Origin');
	if (origin !== null && origin !== new URL(request.url).origin) {
		return plain(403, 'This socket can only be opened from this site.');
	}
	return null;
}

function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
	return new Response(message, {
		status,
		headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }
	});
}
