// A small Parley client for scripts: signs up through the real form actions and opens room sockets
// through the real door, as a browser would. Talks only to the base URL it is given (loopback).
import WebSocket from 'ws';

/** The app's session cookie (see the server's session module). */
export const SESSION_COOKIE = 'parley_session';

export type Account = { username: string; cookie: string };

export function accountWithToken(username: string, token: string): Account {
	return { username, cookie: `${SESSION_COOKIE}=${token}` };
}

export async function postForm(
	base: string,
	path: string,
	fields: Record<string, string>,
	cookie = ''
): Promise<Response> {
	return fetch(new URL(path, base), {
		method: 'POST',
		redirect: 'manual',
		headers: {
			'content-type': 'application/x-www-form-urlencoded',
			// SvelteKit's CSRF check compares the origin of form posts with the site's own.
			origin: new URL(base).origin,
			// Without it SvelteKit answers as to `use:enhance` (JSON) instead of redirecting.
			accept: 'text/html',
			cookie
		},
		body: new URLSearchParams(fields)
	});
}

function sessionCookie(response: Response): string {
	for (const header of response.headers.getSetCookie()) {
		const [pair] = header.split(';');
		if (pair?.startsWith(`${SESSION_COOKIE}=`)) return pair;
	}
	throw new Error(`no session cookie (status ${response.status})`);
}

export async function register(base: string, username: string): Promise<Account> {
	const response = await postForm(base, '/register', {
		email: `${username}@example.test`,
		username,
		displayName: username,
		password: 'correct horse battery staple'
	});
	if (response.status !== 303) throw new Error(`register ${username}: ${response.status}`);
	return { username, cookie: sessionCookie(response) };
}

export async function createRoom(base: string, owner: Account, name: string): Promise<string> {
	const response = await postForm(base, '/?/createRoom', { name }, owner.cookie);
	const location = response.headers.get('location') ?? '';
	const match = /\/rooms\/([a-z0-9]+)/.exec(location);
	if (!match) throw new Error(`create room: ${response.status} ${location}`);
	return match[1]!;
}

export async function joinRoom(base: string, account: Account, roomId: string): Promise<void> {
	const response = await postForm(base, `/rooms/${roomId}?/join`, {}, account.cookie);
	if (response.status !== 303) throw new Error(`join: ${response.status}`);
}

export function roomSocketUrl(base: string, roomId: string): URL {
	const url = new URL(`/ws/room/${roomId}`, base);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	return url;
}

/** Why an upgrade did not give a socket; `status` is the HTTP answer of the door, if any. */
export class UpgradeError extends Error {
	readonly status: number | null;
	constructor(message: string, status: number | null) {
		super(message);
		this.status = status;
	}
}

/**
 * Opens a room socket with the account's session cookie. Compression and UTF-8 validation are off:
 * load tests open a thousand of these in one process, and neither changes what the room sees.
 *
 * `onMessage` is attached before the handshake completes. A frame the room sends right after the
 * 101 can arrive in the same read as the handshake; `ws` emits it on the next tick, before an
 * `await` on this promise resumes, so a listener attached after the await would miss it.
 */
export function openRoomSocket(
	base: string,
	account: Account,
	roomId: string,
	timeoutMs = 15_000,
	onMessage?: (data: WebSocket.RawData) => void
): Promise<WebSocket> {
	const ws = new WebSocket(roomSocketUrl(base, roomId), {
		headers: { cookie: account.cookie },
		perMessageDeflate: false,
		skipUTF8Validation: true,
		handshakeTimeout: timeoutMs
	});
	if (onMessage) ws.on('message', onMessage);
	return new Promise((resolve, reject) => {
		const fail = (error: Error) => {
			ws.removeAllListeners('open');
			ws.terminate();
			reject(error);
		};
		ws.once('open', () => {
			ws.removeAllListeners('unexpected-response');
			ws.removeAllListeners('error');
			// An 'error' without a listener would throw; the caller watches 'close' instead.
			ws.on('error', () => {});
			resolve(ws);
		});
		ws.once('unexpected-response', (_req, res) => {
			res.resume();
			fail(new UpgradeError(`upgrade refused: ${res.statusCode}`, res.statusCode ?? null));
		});
		ws.once('error', (error) => fail(new UpgradeError(error.message, null)));
	});
}

export type Frame = { type: string; [key: string]: unknown };

/** Every frame in a payload (the room may coalesce several into an array). */
export function framesOf(data: WebSocket.RawData): Frame[] {
	const parsed = JSON.parse(data.toString()) as Frame | Frame[];
	return Array.isArray(parsed) ? parsed : [parsed];
}
