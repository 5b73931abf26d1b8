// An echo bot on Parley's public API: it listens to one room over a socket opened with an API
// token, and answers every message that starts with "!echo " by saying the rest back, as a reply.
//
//   PARLEY_URL=http://localhost:8787 PARLEY_TOKEN=parley_pat_… PARLEY_ROOM=<room id> \
//     node --experimental-strip-types examples/echo-bot/echo-bot.ts
//
// Node 22 or newer, nothing to install. What it shows: reading with a token-authenticated room
// socket (hello, backlog, live messages, catching up after a reconnect), writing with
// `POST /api/v1/rooms/{id}/messages` (safe to retry thanks to `clientId`), and honouring
// `Retry-After`. See docs/api.md.

const base = new URL(process.env.PARLEY_URL ?? 'http://localhost:8787');
const token = process.env.PARLEY_TOKEN ?? '';
const roomId = process.env.PARLEY_ROOM ?? '';
if (!token || !roomId) {
	console.error(
		'Set PARLEY_TOKEN (a token from Settings → API tokens) and PARLEY_ROOM (a room id).'
	);
	process.exit(2);
}

const COMMAND = '!echo ';
const auth = { Authorization: `Bearer ${token}` };

type Message = { seq: number; senderId: string; body: string; kind: string; deletedAt?: number };
type Frame =
	| { type: 'welcome'; lastSeq: number }
	| { type: 'backlog'; messages: Message[]; more: boolean }
	| { type: 'message'; message: Message }
	| { type: 'error'; code: string; message: string }
	| { type: string };

/** Calls the API; answers the parsed JSON, waiting out `429 Retry-After` and retrying. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
	for (;;) {
		const response = await fetch(new URL(path, base), {
			method,
			headers: body === undefined ? auth : { ...auth, 'Content-Type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		if (response.status === 429) {
			const seconds = Number(response.headers.get('retry-after') ?? '1');
			await sleep(Math.max(1, seconds) * 1000);
			continue;
		}
		const answer = response.status === 204 ? null : await response.json();
		if (!response.ok) {
			const error = (answer as { error?: { code: string; message: string } } | null)?.error;
			throw new Error(`${method} ${path}: ${response.status} ${error?.code}: ${error?.message}`);
		}
		return answer as T;
	}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const me = await api<{ id: string; username: string }>('GET', '/api/v1/me');
// Start after what the room already holds: the bot answers what is said from now on.
const newest = await api<{ messages: Message[] }>(
	'GET',
	`/api/v1/rooms/${roomId}/messages?limit=1`
);
let lastSeq = newest.messages.at(-1)?.seq ?? 0;
let stopping = false;
let socket: WebSocket | null = null;

/** Answers one message, if it is a command from someone else. Idempotent: its clientId is its seq. */
async function answer(message: Message): Promise<void> {
	lastSeq = Math.max(lastSeq, message.seq);
	if (message.senderId === me.id || message.kind !== 'text' || message.deletedAt !== undefined)
		return;
	if (!message.body.startsWith(COMMAND)) return;
	const text = message.body.slice(COMMAND.length).trim();
	if (!text) return;
	await api('POST', `/api/v1/rooms/${roomId}/messages`, {
		clientId: `echo-${message.seq}`,
		body: text,
		replyTo: message.seq
	});
}

function connect(attempt = 0): void {
	const url = new URL(`/ws/room/${roomId}`, base);
	url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
	// Node's WebSocket takes headers (browsers' cannot, which is why tokens are for scripts).
	const ws = new WebSocket(url, { headers: auth });
	socket = ws;
	let heartbeat: ReturnType<typeof setInterval> | undefined;
	ws.onopen = () => {
		attempt = 0;
		ws.send(JSON.stringify({ type: 'hello', lastSeq }));
		heartbeat = setInterval(() => ws.send(JSON.stringify({ type: 'ping' })), 25_000);
	};
	ws.onmessage = (event) => {
		const data = JSON.parse(String(event.data)) as Frame | Frame[];
		for (const frame of Array.isArray(data) ? data : [data]) {
			if (frame.type === 'welcome' && 'lastSeq' in frame) {
				console.log(`echo-bot: listening in room ${roomId} as @${me.username}`);
			} else if (frame.type === 'backlog' && 'messages' in frame) {
				for (const message of frame.messages) void answer(message).catch(report);
			} else if (frame.type === 'message' && 'message' in frame) {
				void answer(frame.message).catch(report);
			} else if (frame.type === 'error' && 'code' in frame) {
				console.error(`echo-bot: the room says ${frame.code}: ${frame.message}`);
			}
		}
	};
	ws.onclose = (event) => {
		clearInterval(heartbeat);
		if (stopping) return;
		// 4001 signed out (the token was revoked), 4003 removed, 4004 room gone: nothing to retry.
		if ([4001, 4003, 4004, 4008].includes(event.code)) {
			console.error(`echo-bot: closed for good (${event.code} ${event.reason})`);
			process.exit(1);
		}
		const wait = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
		setTimeout(() => connect(attempt + 1), wait);
	};
	ws.onerror = () => {
		// A close follows; the backoff above handles it.
	};
}

function report(err: unknown): void {
	console.error('echo-bot:', err instanceof Error ? err.message : err);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
	process.on(signal, () => {
		stopping = true;
		socket?.close(1000, 'bye');
		process.exit(0);
	});
}

connect();
