// The identity the app's door gives a user-hub socket: like a room's, without the room. Only the
// app worker can reach the hubs, so these headers are trusted as set by its door.
import { IdentityHeader } from './identity';

export type UserIdentity = { userId: string; sessionId?: string | null };

export function readUserIdentity(headers: Headers): UserIdentity | null {
	const userId = headers.get(IdentityHeader.UserId);
	return userId ? { userId, sessionId: headers.get(IdentityHeader.SessionId) } : null;
}

/** Copies `request` with exactly this identity, dropping any identity header it came with. */
export function withUserIdentity(request: Request, identity: UserIdentity): Request {
	const headers = new Headers(request.headers);
	for (const name of Object.values(IdentityHeader)) headers.delete(name);
	headers.set(IdentityHeader.UserId, identity.userId);
	if (identity.sessionId) headers.set(IdentityHeader.SessionId, identity.sessionId);
	return new Request(request, { headers });
}
