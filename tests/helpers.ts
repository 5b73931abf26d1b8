// Shared test fixtures: people, rooms and sockets, against the real bindings of the test worker.
import { env } from 'cloudflare:workers';
import type { ServerFrame } from '$lib/protocol';
import { getDb } from '$lib/server/db';
import { users } from '$lib/server/db/schema';
import { createRoom, grantMembership } from '$lib/server/rooms';
import { IdentityHeader } from '../workers/realtime/src/identity';

export const db = () => getDb(env.DB);

let counter = 0;

/** A person with an account; the password hash is a placeholder (these tests don't log in). */
export async function seedUser(name: string) {
	const id = `${name}${++counter}${Math.random().toString(36).slice(2, 8)}`;
	await db()
		.insert(users)
		.values({
			id,
			email: `${id}@example.test`,
			username: id,
			usernameKey: id,
			displayName: name[0]!.toUpperCase() + name.slice(1),
			passwordHash: null,
			createdAt: Date.now()
		});
	return { id, name: name[0]!.toUpperCase() + name.slice(1) };
}

export type Person = Awaited<ReturnType<typeof seedUser>>;

export async function seedRoom(owner: Person, ...members: Person[]) {
	const room = await createRoom(db(), { kind: 'group', name: 'Test room', createdBy: owner.id });
	for (const member of members) await grantMembership(db(), room.id, member.id);
	return room.id;
}

export function roomStub(roomId: string) {
	return env.ROOMS.get(env.ROOMS.idFromName(roomId));
}

/** A socket into a room object as the app's door would open it, with a queue of received frames. */
export class TestSocket {
	frames: ServerFrame[] = [];
	closed: { code: number } | null = null;
	#waiters: (() => void)[] = [];

	constructor(public ws: WebSocket) {
		ws.addEventListener('message', (event) => {
			const data = JSON.parse(event.data as string) as ServerFrame | ServerFrame[];
			this.frames.push(...(Array.isArray(data) ? data : [data]));
			this.#wake();
		});
		ws.addEventListener('close', (event) => {
			this.closed = { code: event.code };
			this.#wake();
		});
	}

	#wake() {
		for (const waiter of this.#waiters.splice(0)) waiter();
	}

	send(frame: unknown) {
		this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
	}

	/** Waits until `predicate` holds over the frames received so far. */
	async until<T>(
		predicate: (frames: ServerFrame[]) => T | undefined | false,
		timeoutMs = 3000
	): Promise<T> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const result = predicate(this.frames);
			if (result) return result;
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames)}`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.#waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	of<K extends ServerFrame['type']>(type: K): Extract<ServerFrame, { type: K }>[] {
		return this.frames.filter((f): f is Extract<ServerFrame, { type: K }> => f.type === type);
	}

	async next<K extends ServerFrame['type']>(
		type: K,
		match: (frame: Extract<ServerFrame, { type: K }>) => boolean = () => true
	): Promise<Extract<ServerFrame, { type: K }>> {
		return this.until(() => this.of(type).find(match));
	}

	close() {
		try {
			this.ws.close(1000, 'done');
		} catch {
			// already closed
		}
	}
}

export async function connect(
	roomId: string,
	person: Person,
	lastSeq?: number
): Promise<TestSocket> {
	const response = await roomStub(roomId).fetch('https://room.internal/ws', {
		headers: {
			Upgrade: 'websocket',
			[IdentityHeader.RoomId]: roomId,
			[IdentityHeader.UserId]: person.id,
			[IdentityHeader.UserName]: encodeURIComponent(person.name)
		}
	});
	const ws = response.webSocket;
	if (!ws) throw new Error(`upgrade failed: ${response.status}`);
	ws.accept();
	const socket = new TestSocket(ws);
	if (lastSeq !== undefined) {
		socket.send({ type: 'hello', lastSeq });
		await socket.next('backlog');
	}
	return socket;
}
