// Fixtures for the people-and-conversations tests: friendships, blocks, sessions and hub sockets.
import { env } from 'cloudflare:workers';
import type { HubFrame } from '$shared/protocol/hub';
import { pairOf } from '$lib/server/rooms/authz';
import { blocks, friendships, memberships } from '$shared/db/schema';
import { realtimeOf } from '$lib/server/realtime/effects';
import { createSession, generateSessionToken } from '$lib/server/auth/session';
import { and, eq } from 'drizzle-orm';
import { IdentityHeader } from '$shared/identity';
import { hubStub as hubStubOf } from '$shared/objects';
import { db, seedUser, type Person } from '../helpers';

export const rt = () => realtimeOf(env);

/** A seeded person who can also act (display name) and be found (username, which is their id). */
export async function seedPerson(name: string) {
	const person = await seedUser(name);
	return { ...person, displayName: person.name, username: person.id };
}

export async function befriend(a: Person, b: Person): Promise<void> {
	await db()
		.insert(friendships)
		.values({
			...pairOf(a.id, b.id),
			status: 'accepted',
			requestedBy: a.id,
			createdAt: Date.now(),
			acceptedAt: Date.now()
		});
}

export async function block(blocker: Person, blocked: Person): Promise<void> {
	await db()
		.insert(blocks)
		.values({ blockerId: blocker.id, blockedId: blocked.id, createdAt: Date.now() });
}

export async function setRole(roomId: string, person: Person, role: 'owner' | 'admin' | 'member') {
	await db()
		.update(memberships)
		.set({ role })
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, person.id)));
}

export async function roleOf(roomId: string, person: Person) {
	const [row] = await db()
		.select({ role: memberships.role })
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, person.id)));
	return row?.role ?? null;
}

/** A session token for the person, as the login form would set in the cookie. */
export async function sessionFor(person: Person): Promise<string> {
	const token = generateSessionToken();
	await createSession(db(), token, person.id);
	return token;
}

export function hubStub(userId: string) {
	return hubStubOf(env.HUBS, userId);
}

/** A tab's socket to the person's user hub, as the app's door would open it. */
export class HubSocket {
	frames: HubFrame[] = [];
	closed = false;
	closeCode: number | null = null;
	#waiters: (() => void)[] = [];

	constructor(public ws: WebSocket) {
		ws.addEventListener('message', (event) => {
			const data = JSON.parse(event.data as string) as HubFrame | HubFrame[];
			this.frames.push(...(Array.isArray(data) ? data : [data]));
			this.#wake();
		});
		ws.addEventListener('close', (event) => {
			this.closed = true;
			this.closeCode = event.code;
			this.#wake();
		});
	}

	#wake() {
		for (const waiter of this.#waiters.splice(0)) waiter();
	}

	of<K extends HubFrame['type']>(type: K): Extract<HubFrame, { type: K }>[] {
		return this.frames.filter((f): f is Extract<HubFrame, { type: K }> => f.type === type);
	}

	async next<K extends HubFrame['type']>(
		type: K,
		match: (frame: Extract<HubFrame, { type: K }>) => boolean = () => true,
		timeoutMs = 3000
	): Promise<Extract<HubFrame, { type: K }>> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const found = this.of(type).find(match);
			if (found) return found;
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`no ${type} frame; got ${JSON.stringify(this.frames)}`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.#waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
	}

	close() {
		try {
			this.ws.close(1000, 'done');
		} catch {
			// already closed
		}
	}
}

export async function connectHub(person: Person): Promise<HubSocket> {
	const response = await hubStub(person.id).fetch('https://hub.internal/ws', {
		headers: { Upgrade: 'websocket', [IdentityHeader.UserId]: person.id }
	});
	const ws = response.webSocket;
	if (!ws) throw new Error(`hub upgrade failed: ${response.status}`);
	ws.accept();
	const socket = new HubSocket(ws);
	await socket.next('welcome');
	return socket;
}
