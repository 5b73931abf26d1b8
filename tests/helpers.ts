// Shared test fixtures: people, rooms and sockets, against the real bindings of the test worker.
import { roomStub as roomStubOf } from '$shared/objects';
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { ChatMessage, ServerFrame } from '$shared/protocol';
import { getDb } from '$lib/server/db';
import { memberships, roomBans, roomInvites, rooms, users } from '$shared/db/schema';
import { eq } from 'drizzle-orm';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import type { ChatRoom } from '../workers/realtime/src/chat-room';
import { IdentityHeader } from '$shared/identity';
import { SIGNAL_WINDOW_MS, UnreadSignals } from '../workers/realtime/src/unread-signals';
import { RoomAudience } from '../workers/realtime/src/room-audience';

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
	return { id, name: name[0]!.toUpperCase() + name.slice(1), username: id };
}

export type Person = Awaited<ReturnType<typeof seedUser>>;

/** Adds `count` offline members to a room straight into D1, two statements in all. */
export async function addMembers(roomId: string, count: number): Promise<Person[]> {
	const tag = `m${Math.random().toString(36).slice(2, 8)}`;
	const now = Date.now();
	await env.DB.batch([
		env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
			 INSERT INTO users (id, email, username, username_key, display_name, created_at)
			 SELECT ?2 || i, ?2 || i || '@example.test', ?2 || i, ?2 || i, 'Member', ?3 FROM n`
		).bind(count, tag, now),
		env.DB.prepare(
			`INSERT INTO memberships (room_id, user_id, role, joined_at)
			 SELECT ?1, id, 'member', ?3 FROM users WHERE id LIKE ?2 || '%'`
		).bind(roomId, tag, now)
	]);
	return Array.from({ length: count }, (_, i) => ({
		id: `${tag}${i + 1}`,
		name: 'Member',
		username: `${tag}${i + 1}`
	}));
}

/** A room (a group) owned by `owner`, with the others as plain members. */
export async function seedRoom(owner: Person, ...members: Person[]) {
	const room = await createRoom(db(), { kind: 'group', name: 'Test room', createdBy: owner.id });
	for (const member of members) await grantMembership(db(), room.id, member.id);
	return room.id;
}

/**
 * A room's rows in D1 (the room, its members, bans and invites), as one string: a refusal must leave
 * them exactly as they were.
 */
export async function roomState(roomId: string): Promise<string> {
	const state = await db().batch([
		db().select().from(rooms).where(eq(rooms.id, roomId)),
		db()
			.select()
			.from(memberships)
			.where(eq(memberships.roomId, roomId))
			.orderBy(memberships.userId),
		db().select().from(roomBans).where(eq(roomBans.roomId, roomId)).orderBy(roomBans.userId),
		db().select().from(roomInvites).where(eq(roomInvites.roomId, roomId)).orderBy(roomInvites.id)
	]);
	return JSON.stringify(state);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function roomStub(roomId: string) {
	return roomStubOf(env.ROOMS, roomId);
}

/** A socket into a room object as the app's door would open it, with a queue of received frames. */
export class TestSocket {
	frames: ServerFrame[] = [];
	/** When each frame arrived (ms), parallel to `frames`. */
	times: number[] = [];
	/** Raw payloads received: several frames may arrive coalesced in one. */
	payloads = 0;
	closed: { code: number } | null = null;
	#waiters: (() => void)[] = [];

	constructor(public ws: WebSocket) {
		ws.addEventListener('message', (event) => {
			const data = JSON.parse(event.data as string) as ServerFrame | ServerFrame[];
			this.payloads++;
			const list = Array.isArray(data) ? data : [data];
			this.frames.push(...list);
			for (const _ of list) this.times.push(Date.now());
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
		if (typeof frame === 'string' || frame instanceof ArrayBuffer) this.ws.send(frame);
		else this.ws.send(JSON.stringify(frame));
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
		match: (frame: Extract<ServerFrame, { type: K }>) => boolean = () => true,
		timeoutMs = 3000
	): Promise<Extract<ServerFrame, { type: K }>> {
		return this.until(() => this.of(type).find(match), timeoutMs);
	}

	/** The latest frame of a type that matches, waiting for one if there is none yet. */
	async latest<K extends ServerFrame['type']>(
		type: K,
		match: (frame: Extract<ServerFrame, { type: K }>) => boolean = () => true,
		timeoutMs = 3000
	): Promise<Extract<ServerFrame, { type: K }>> {
		return this.until(() => this.of(type).findLast(match), timeoutMs);
	}

	/** Forgets what was received so far, to wait for what comes next. */
	clear() {
		this.frames = [];
		this.times = [];
		this.payloads = 0;
	}

	close() {
		try {
			this.ws.close(1000, 'done');
		} catch {
			// already closed
		}
	}
}

export type ConnectOptions = {
	role?: 'owner' | 'admin' | 'member';
	/** The person's read receipts setting (default on). */
	readReceipts?: boolean;
	/** Sent with the hello. */
	lastRev?: number;
	away?: boolean;
	/** The session the socket belongs to, for tests of signing out. */
	sessionId?: string;
	/** The door says the room is end-to-end encrypted. */
	encrypted?: boolean;
};

/** The upgrade request the door would forward for `person`. */
export function roomUpgrade(
	roomId: string,
	person: Person,
	options: Omit<ConnectOptions, 'lastRev' | 'away'> = {}
): Request {
	const headers: Record<string, string> = {
		Upgrade: 'websocket',
		[IdentityHeader.RoomId]: roomId,
		[IdentityHeader.UserId]: person.id,
		[IdentityHeader.UserName]: encodeURIComponent(person.name),
		[IdentityHeader.Username]: person.username,
		[IdentityHeader.Role]: options.role ?? 'member',
		[IdentityHeader.ReadReceipts]: options.readReceipts === false ? '0' : '1'
	};
	if (options.sessionId) headers[IdentityHeader.SessionId] = options.sessionId;
	if (options.encrypted) headers[IdentityHeader.Encrypted] = '1';
	return new Request('https://room.internal/ws', { headers });
}

export async function connect(
	roomId: string,
	person: Person,
	lastSeq?: number,
	options: ConnectOptions = {}
): Promise<TestSocket> {
	const response = await roomStub(roomId).fetch(roomUpgrade(roomId, person, options));
	const ws = response.webSocket;
	if (!ws) throw new Error(`upgrade failed: ${response.status}`);
	ws.accept();
	const socket = new TestSocket(ws);
	if (lastSeq !== undefined) {
		socket.send({ type: 'hello', lastSeq, lastRev: options.lastRev, away: options.away });
		await socket.next('backlog');
	}
	return socket;
}

export type Outage = {
	/** `down`: every batch fails. `lost-reply`: the batch commits, then the caller sees an error. */
	mode: 'down' | 'lost-reply' | 'up';
	attempts: number;
};

/** Puts a D1 in front of the room's flush that fails the way `outage.mode` says, for now. */
export async function injectOutage(roomId: string, outage: Outage): Promise<void> {
	await runInDurableObject(roomStub(roomId), (instance: ChatRoom) => {
		const real = instance.database;
		instance.database = new Proxy(real, {
			get(target, property) {
				if (property === 'batch') {
					return async (statements: D1PreparedStatement[]) => {
						outage.attempts++;
						if (outage.mode === 'down') throw new Error('D1_ERROR: injected outage');
						const result = await target.batch(statements);
						if (outage.mode === 'lost-reply') throw new Error('D1_ERROR: network lost');
						return result;
					};
				}
				const value: unknown = Reflect.get(target, property);
				return typeof value === 'function' ? value.bind(target) : value;
			}
		});
	});
}

/**
 * A Durable Object binding whose objects are what `objectFor` makes of each name: a stand-in that
 * records calls or fails on purpose, reached the way the code reaches the real one.
 */
export function fakeNamespace<T>(
	objectFor: (name: string) => unknown
): DurableObjectNamespace<T & Rpc.DurableObjectBranded> {
	return {
		idFromName: (name: string) => name,
		get: (id: string) => objectFor(id)
	} as unknown as DurableObjectNamespace<T & Rpc.DurableObjectBranded>;
}

/**
 * Replays the unread signals a room would send for `message`, with a HUBS binding that records each
 * call (whose hub, and why) instead of making it. The room's own signals have run already and
 * marked everyone as told, so the replay starts from an empty table.
 */
export async function replayUnreadSignals(
	roomId: string,
	message: ChatMessage,
	hasTabOpen: (userId: string) => boolean
): Promise<{ userId: string; reason: string; alert: boolean }[]> {
	return runInDurableObject(roomStub(roomId), async (_room: ChatRoom, state) => {
		const calls: { userId: string; reason: string; alert: boolean }[] = [];
		const hubs = fakeNamespace(() => ({
			notify: async (userId: string, signal: { reason: string; alert: boolean }) => {
				calls.push({ userId, reason: signal.reason, alert: signal.alert });
				return 0;
			}
		}));
		state.storage.sql.exec('DELETE FROM unread_signals');
		const signals = new UnreadSignals(
			state,
			{ ...env, HUBS: hubs } as unknown as Env,
			new RoomAudience(env.DB),
			hasTabOpen
		);
		signals.onMessage(roomId, message);
		await sleep(SIGNAL_WINDOW_MS + 500);
		return calls;
	});
}

/**
 * A D1 that counts the round trips made through it (each query on its own, each batch once) and
 * keeps the text of every statement prepared.
 */
export function countingD1(real: D1Database) {
	const counter = { trips: 0, statements: [] as string[] };
	const targets = new WeakMap<object, D1PreparedStatement>();
	const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
		const proxy = new Proxy(statement, {
			get(target, property) {
				if (property === 'bind') {
					return (...values: unknown[]) => wrap(target.bind(...values));
				}
				const value: unknown = Reflect.get(target, property);
				if (typeof value !== 'function') return value;
				if (['first', 'all', 'raw', 'run'].includes(String(property))) counter.trips++;
				return value.bind(target);
			}
		});
		targets.set(proxy, statement);
		return proxy;
	};
	const d1 = new Proxy(real, {
		get(target, property) {
			if (property === 'prepare') {
				return (query: string) => {
					counter.statements.push(query);
					return wrap(target.prepare(query));
				};
			}
			if (property === 'batch') {
				return (statements: D1PreparedStatement[]) => {
					counter.trips++;
					return target.batch(statements.map((s) => targets.get(s) ?? s));
				};
			}
			const value: unknown = Reflect.get(target, property);
			return typeof value === 'function' ? value.bind(target) : value;
		}
	});
	return { d1, counter };
}
