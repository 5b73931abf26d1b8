import type { ServerFrame } from '../../../shared/protocol';

/**
 * Sends frames to the room's sockets, coalesced: frames queued while the object is busy go out
 * together as one array per socket on the next turn of the event loop. Under load a turn handles
 * many incoming frames, so one outgoing payload carries many events: the object's per-socket cost
 * is paid per batch, not per message. At rest a batch holds one frame and leaves at once.
 *
 * Each broadcast frame is serialized once, whatever the number of sockets. A socket gets its own
 * frames (acks, errors) first in a batch, then the broadcast ones; and sockets with frames of their
 * own are sent to before the rest, so that a sender's ack does not wait for the whole room.
 *
 * A batch costs one send per socket, so in a large room batches are also spaced out: the next
 * one leaves no sooner than `spacingFor(sockets)` after the last. A fast stream then goes out in
 * fewer, larger payloads (1,000 sockets: at most 50 batches a second, whatever the message rate),
 * at the price of at most that spacing in added latency; a quiet room or a small one sends at
 * once.
 */
export class Fanout {
	#sockets = new Set<WebSocket>();
	#shared: string[] = [];
	#direct = new Map<WebSocket, string[]>();
	#scheduled = false;
	#lastFlushAt = 0;

	get size(): number {
		return this.#sockets.size;
	}

	/** From the next batch on, this socket gets every broadcast. */
	subscribe(ws: WebSocket): void {
		this.#sockets.add(ws);
	}

	unsubscribe(ws: WebSocket): void {
		this.#sockets.delete(ws);
		this.#direct.delete(ws);
	}

	broadcast(frame: ServerFrame): void {
		this.#shared.push(JSON.stringify(frame));
		this.#schedule();
	}

	/**
	 * A frame that comes in two versions: `pick` chooses, per socket, which one it gets (e.g. with
	 * or without read positions, by the reader's privacy setting).
	 */
	broadcastEither(a: ServerFrame, b: ServerFrame, pick: (ws: WebSocket) => 'a' | 'b'): void {
		const json = { a: JSON.stringify(a), b: JSON.stringify(b) };
		for (const ws of this.#sockets) this.#queueDirect(ws, json[pick(ws)]);
		this.#schedule();
	}

	send(ws: WebSocket, frame: ServerFrame): void {
		this.sendSerialized(ws, JSON.stringify(frame));
	}

	/** Like `send`, for a frame serialized once and sent to many sockets in turn. */
	sendSerialized(ws: WebSocket, json: string): void {
		this.#queueDirect(ws, json);
		this.#schedule();
	}

	/** Sends everything queued now, e.g. before a new subscriber's snapshot is taken. */
	flush(): void {
		this.#scheduled = false;
		const shared = this.#shared;
		const direct = this.#direct;
		if (shared.length === 0 && direct.size === 0) return;
		this.#shared = [];
		this.#direct = new Map();
		this.#lastFlushAt = Date.now();
		const sharedPayload =
			shared.length === 0 ? '' : shared.length === 1 ? shared[0]! : `[${shared.join(',')}]`;
		const sharedList = shared.join(',');
		// Sockets with frames of their own go first: mostly senders, whose ack should not wait for a
		// thousand deliveries of their message. Closing sockets (no longer subscribed) get only theirs.
		for (const [ws, own] of direct) {
			if (sharedList && this.#sockets.has(ws)) own.push(sharedList);
			deliver(ws, own.length === 1 ? own[0]! : `[${own.join(',')}]`);
		}
		if (!sharedPayload) return;
		for (const ws of this.#sockets) if (!direct.has(ws)) deliver(ws, sharedPayload);
	}

	#queueDirect(ws: WebSocket, json: string): void {
		const queue = this.#direct.get(ws);
		if (queue) queue.push(json);
		else this.#direct.set(ws, [json]);
	}

	#schedule(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		const due = this.#lastFlushAt + spacingFor(this.#sockets.size);
		setTimeout(() => this.flush(), Math.max(0, due - Date.now()));
	}
}

/** Per socket, the time a batch waits after the previous one; capped, so latency stays bounded. */
const SPACING_PER_SOCKET_MS = 0.02;
const MAX_SPACING_MS = 20;

/** The least time between two batches for a room with this many sockets. */
export function spacingFor(sockets: number): number {
	return Math.min(MAX_SPACING_MS, sockets * SPACING_PER_SOCKET_MS);
}

/** Sends serialized frames right away, outside any batch (a hello's welcome and backlog). */
export function sendNow(ws: WebSocket, json: string): void {
	deliver(ws, json);
}

function deliver(ws: WebSocket, data: string): void {
	try {
		ws.send(data);
	} catch {
		// The socket closed under us; its close handler tidies up.
	}
}
