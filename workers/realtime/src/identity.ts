// The app worker is the only door to the room objects: it authenticates the session, checks
// membership in D1, and then forwards the request with the trusted identity in these headers.
// The realtime worker has no public route, so nothing else can set them.
export const IdentityHeader = {
	RoomId: 'x-parley-room-id',
	UserId: 'x-parley-user-id',
	UserName: 'x-parley-user-name'
} as const;

export type Identity = { roomId: string; userId: string; userName: string };

export function readIdentity(headers: Headers): Identity | null {
	const roomId = headers.get(IdentityHeader.RoomId);
	const userId = headers.get(IdentityHeader.UserId);
	const userName = headers.get(IdentityHeader.UserName);
	if (!roomId || !userId || userName === null) return null;
	return { roomId, userId, userName: decodeURIComponent(userName) };
}

/** Copies `request` with exactly the identity given, dropping any identity header it came with. */
export function withIdentity(request: Request, identity: Identity): Request {
	const headers = new Headers(request.headers);
	headers.set(IdentityHeader.RoomId, identity.roomId);
	headers.set(IdentityHeader.UserId, identity.userId);
	// Header values are ByteStrings; display names are not.
	headers.set(IdentityHeader.UserName, encodeURIComponent(identity.userName));
	return new Request(request, { headers });
}
