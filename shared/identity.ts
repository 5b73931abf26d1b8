// The app worker is the only door to the room objects: it authenticates the session, checks
// membership in D1, and then forwards the request with the trusted identity in these headers.
// The realtime worker has no public route, so nothing else can set them.
export const IdentityHeader = {
	RoomId: 'x-parley-room-id',
	UserId: 'x-parley-user-id',
	UserName: 'x-parley-user-name',
	Username: 'x-parley-username',
	Role: 'x-parley-role',
	ReadReceipts: 'x-parley-read-receipts',
	/** The session that opened the socket, so that signing it out closes exactly its sockets. */
	SessionId: 'x-parley-session-id',
	/** Present: the socket was opened with a read-only API token, and may change nothing. */
	ReadOnly: 'x-parley-read-only',
	/** Present: the user is a bot; what it sends is marked as a bot's. */
	Bot: 'x-parley-bot',
	/** Present: D1 says the room is end-to-end encrypted (docs/e2ee.md). */
	Encrypted: 'x-parley-encrypted'
} as const;

export type MemberRole = 'owner' | 'admin' | 'member';

export type Identity = {
	roomId: string;
	userId: string;
	/** Display name. */
	userName: string;
	/** Lower-cased username, for `@mentions`. */
	username: string;
	/** The membership's role in D1 when the socket opened: who may delete others' messages. */
	role: MemberRole;
	/** The user's privacy setting: off means they neither send nor see read receipts. */
	readReceipts: boolean;
	/**
	 * The session behind the socket (for an API token, `token:<id>`), so that signing it out or
	 * revoking the token closes exactly its sockets; null only for callers that have none (tests).
	 */
	sessionId: string | null;
	/** Opened with a read-only API token: it hears everything and may change nothing. */
	readOnly: boolean;
	/** The user is a bot. */
	bot: boolean;
	/**
	 * The room is end-to-end encrypted, as D1 says. The room was told when it was made; every door
	 * says it again, so that a room that missed that call still never takes anything in the clear.
	 */
	encrypted: boolean;
};

export type IdentityInput = Pick<Identity, 'roomId' | 'userId' | 'userName'> &
	Partial<
		Pick<
			Identity,
			'username' | 'role' | 'readReceipts' | 'sessionId' | 'readOnly' | 'bot' | 'encrypted'
		>
	>;

const ROLES: readonly string[] = ['owner', 'admin', 'member'] satisfies MemberRole[];

export function readIdentity(headers: Headers): Identity | null {
	const roomId = headers.get(IdentityHeader.RoomId);
	const userId = headers.get(IdentityHeader.UserId);
	const userName = headers.get(IdentityHeader.UserName);
	if (!roomId || !userId || userName === null) return null;
	const role = headers.get(IdentityHeader.Role) ?? 'member';
	return {
		roomId,
		userId,
		userName: decodeURIComponent(userName),
		username: (headers.get(IdentityHeader.Username) ?? '').toLowerCase(),
		role: ROLES.includes(role) ? (role as MemberRole) : 'member',
		readReceipts: headers.get(IdentityHeader.ReadReceipts) !== '0',
		sessionId: headers.get(IdentityHeader.SessionId),
		readOnly: headers.has(IdentityHeader.ReadOnly),
		bot: headers.has(IdentityHeader.Bot),
		encrypted: headers.has(IdentityHeader.Encrypted)
	};
}

/** Copies `request` with exactly the identity given, dropping any identity header it came with. */
export function withIdentity(request: Request, identity: IdentityInput): Request {
	const headers = new Headers(request.headers);
	headers.set(IdentityHeader.RoomId, identity.roomId);
	headers.set(IdentityHeader.UserId, identity.userId);
	// Header values are ByteStrings; display names are not.
	headers.set(IdentityHeader.UserName, encodeURIComponent(identity.userName));
	headers.set(IdentityHeader.Username, identity.username ?? '');
	headers.set(IdentityHeader.Role, identity.role ?? 'member');
	headers.set(IdentityHeader.ReadReceipts, identity.readReceipts === false ? '0' : '1');
	if (identity.sessionId) headers.set(IdentityHeader.SessionId, identity.sessionId);
	else headers.delete(IdentityHeader.SessionId);
	if (identity.readOnly) headers.set(IdentityHeader.ReadOnly, '1');
	else headers.delete(IdentityHeader.ReadOnly);
	if (identity.bot) headers.set(IdentityHeader.Bot, '1');
	else headers.delete(IdentityHeader.Bot);
	if (identity.encrypted) headers.set(IdentityHeader.Encrypted, '1');
	else headers.delete(IdentityHeader.Encrypted);
	return new Request(request, { headers });
}

/** The socket tags that let an object find the sockets of one signed-in session. */
export function sessionTags(identity: { sessionId?: string | null }): string[] {
	return identity.sessionId ? [sessionTag(identity.sessionId)] : [];
}

export function sessionTag(sessionId: string): string {
	return `session:${sessionId}`;
}

// The identity the app's door gives a user-hub socket: like a room's, without the room. Only the
// app worker can reach the hubs, so these headers are trusted as set by its door.

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
