// Before measuring: one real registration and room through the forms, a message through the real
// door, and the door refusing what it must refuse. If any of it fails the figures would mean nothing.
import type WebSocket from 'ws';
import { generateId } from '../../src/lib/server/ids.ts';
import {
	accountWithToken,
	createRoom,
	framesOf,
	joinRoom,
	openRoomSocket,
	register,
	UpgradeError,
	type Account,
	type Frame
} from '../lib/parley-client.ts';
import { log } from './log.ts';

function nextFrame(ws: WebSocket, match: (frame: Frame) => boolean, timeoutMs = 10_000) {
	return new Promise<Frame>((resolve, reject) => {
		const timer = setTimeout(() => {
			ws.off('message', onMessage);
			reject(new Error('sanity check: no answer from the room'));
		}, timeoutMs);
		const onMessage = (data: WebSocket.RawData) => {
			const frame = framesOf(data).find(match);
			if (!frame) return;
			clearTimeout(timer);
			ws.off('message', onMessage);
			resolve(frame);
		};
		ws.on('message', onMessage);
	});
}

async function refusedWith(base: string, account: Account, roomId: string): Promise<number | null> {
	try {
		const ws = await openRoomSocket(base, account, roomId, 5000);
		ws.terminate();
		return null;
	} catch (error) {
		return error instanceof UpgradeError ? error.status : null;
	}
}

export async function sanityCheck(base: string, member: Account): Promise<void> {
	const started = Date.now();
	const owner = await register(base, `bench_owner_${generateId().slice(0, 8)}`);
	const roomId = await createRoom(base, owner, 'Bench sanity check');

	const ws = await openRoomSocket(base, owner, roomId);
	try {
		const welcome = nextFrame(ws, (f) => f.type === 'welcome');
		ws.send(JSON.stringify({ type: 'hello', lastSeq: 0 }));
		await welcome;
		const clientId = `sanity-${generateId()}`;
		const ack = nextFrame(ws, (f) => f.type === 'ack' && f.clientId === clientId);
		const echo = nextFrame(
			ws,
			(f) =>
				f.type === 'message' && (f.message as { clientId?: unknown } | null)?.clientId === clientId
		);
		ws.send(JSON.stringify({ type: 'send', clientId, body: 'Hello from the bench' }));
		await Promise.all([ack, echo]);
	} finally {
		ws.close();
	}

	const stranger = accountWithToken('nobody', 'not-a-session-token');
	const unauthenticated = await refusedWith(base, stranger, roomId);
	if (unauthenticated !== 401) {
		throw new Error(`sanity check: a socket without a session got ${unauthenticated}, not 401`);
	}
	const outsider = await refusedWith(base, member, roomId);
	if (outsider !== 403) {
		throw new Error(`sanity check: a non-member's socket got ${outsider}, not 403`);
	}
	await joinRoom(base, member, roomId);
	const joined = await openRoomSocket(base, member, roomId);
	joined.close();
	log(`sanity check passed in ${Date.now() - started} ms (form sign-up, room, message, door)`);
}
