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

/**
 * Signs up through the real forms, as a person would: the form answers "check your inbox" whoever
 * the address belongs to, and the account exists once the mailed link is opened. The link is read
 * from the server's development outbox (`/dev/mail`), so this needs a development server.
 */
export async function register(
	base: string,
	username: string,
	signal?: AbortSignal
): Promise<Account> {
	const email = `${username}@example.test`;
	const submitted = await postForm(base, '/register', {
		email,
		username,
		displayName: username,
		password: 'correct horse battery staple'
	});
	if (submitted.status !== 200) throw new Error(`register ${username}: ${submitted.status}`);
	const finished = await postForm(base, '/register/finish?/finish', {
		token: await signUpToken(base, email, signal)
	});
	if (finished.status !== 303) {
		throw new Error(`finish registering ${username}: ${finished.status}`);
	}
	return { username, cookie: sessionCookie(finished) };
}

/** The token of the sign-up link mailed to `email`, from the development outbox. */
async function signUpToken(base: string, email: string, signal?: AbortSignal): Promise<string> {
	for (let attempt = 0; attempt < 50; attempt++) {
		signal?.throwIfAborted();
		const outbox = await fetch(new URL('/dev/mail', base));
		if (outbox.status === 404) {
			throw new Error(
				'The server has no development outbox (/dev/mail) to read sign-up links from: run it in development.'
			);
		}
		const mail = (await outbox.text())
			.split('<article')
			.find((part) => part.includes(email) && part.includes('Finish creating your Parley account'));
		const match = mail && /\/register\/finish#token=([a-z2-7]{32})/.exec(mail);
		if (match) return match[1]!;
		// The mail is sent after the form's answer.
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error(`no sign-up link arrived for ${email}`);
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
