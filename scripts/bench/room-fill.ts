// Messages for a scenario's room, sent the way the app sends them: each sender opens a room socket
// through the door, says hello, and sends text frames, each acknowledged with its seq. The room
// limits each person's sends (a burst, then a steady rate), so a history of a few hundred messages
// is shared out among several senders, each keeping within its own allowance.
import { setTimeout as sleep } from 'node:timers/promises';
import { framesOf, openRoomSocket, type Account, type Frame } from '../lib/parley-client.ts';
import type { Context } from './context.ts';

/** The room's per-person allowance (SEND_RATE in shared/protocol): sends past it are refused. */
const SEND_BURST = 20;
const SENDS_PER_SECOND = 5;
const ACK_WAIT_MS = 30_000;

/** An open socket of one member: `send` resolves with the message's seq once the room has it. */
export type RoomSender = {
	send: (body: string) => Promise<number>;
	close: () => void;
};

export async function roomSender(
	ctx: Context,
	account: Account,
	roomId: string
): Promise<RoomSender> {
	const waiting = new Map<string, (seq: number) => void>();
	let welcomed: () => void = () => {};
	let refused: (error: Error) => void = () => {};
	const welcome = new Promise<void>((resolve, reject) => {
		welcomed = resolve;
		refused = reject;
	});
	const ws = await openRoomSocket(ctx.base, account, roomId, 15_000, (data) => {
		for (const frame of framesOf(data) as Frame[]) {
			if (frame.type === 'welcome') welcomed();
			if (frame.type === 'ack') waiting.get(String(frame.clientId))?.(Number(frame.seq));
			if (frame.type === 'error') refused(new Error(`the room refused: ${JSON.stringify(frame)}`));
		}
	});
	ws.send(JSON.stringify({ type: 'hello', lastSeq: 0 }));
	await welcome;
	let sent = 0;
	return {
		send(body: string) {
			const clientId = `${account.username}-${sent++}-${Date.now()}`;
			const acked = new Promise<number>((resolve, reject) => {
				const timer = setTimeout(
					() => reject(new Error(`no ack for a message within ${ACK_WAIT_MS} ms`)),
					ACK_WAIT_MS
				);
				waiting.set(clientId, (seq) => {
					clearTimeout(timer);
					waiting.delete(clientId);
					resolve(seq);
				});
			});
			ws.send(JSON.stringify({ type: 'send', clientId, body }));
			return acked;
		},
		close: () => ws.close()
	};
}

/**
 * Sends `count` numbered messages into the room, shared out among `senders`, each within the
 * room's rate for one person. Answers the newest message's seq.
 */
export async function fillRoom(
	ctx: Context,
	senders: Account[],
	roomId: string,
	count: number
): Promise<number> {
	const sockets = await Promise.all(senders.map((account) => roomSender(ctx, account, roomId)));
	let newest = 0;
	try {
		await Promise.all(
			sockets.map(async (socket, s) => {
				const mine = Array.from(
					{ length: Math.ceil((count - s) / sockets.length) },
					(_, i) => s + i * sockets.length
				);
				const acks: Promise<number>[] = [];
				for (const [i, n] of mine.entries()) {
					if (i >= SEND_BURST)
						await sleep(1000 / SENDS_PER_SECOND, undefined, { signal: ctx.signal });
					acks.push(socket.send(`Message ${n + 1} of ${count}: the bench's history.`));
				}
				for (const seq of await Promise.all(acks)) newest = Math.max(newest, seq);
			})
		);
	} finally {
		for (const socket of sockets) socket.close();
	}
	return newest;
}
