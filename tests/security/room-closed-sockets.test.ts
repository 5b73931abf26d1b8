// A socket the room has closed (removal, ban, sign-out, deletion) must not keep writing: a client
// that never answers the close frame, or whose frames were already on their way, changes nothing,
// also after the object wakes from hibernation with that socket still open in the runtime.
import { describe, expect, it } from 'vitest';
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { ROOM_STATE_INTERVAL_MS, type ClientFrame, type PresenceEntry } from '$shared/protocol';
import { ChatRoom } from '../../workers/realtime/src/chat-room';
import { TestSocket, connect, roomStub, seedRoom, seedUser, sleep, type Person } from '../helpers';

/** Everything a member's tab can say, as mallory's would after she lost her place. */
const MALLORY_FRAMES: ClientFrame[] = [
	{ type: 'send', clientId: 'late-1', body: 'still here?' },
	{ type: 'typing' },
	{ type: 'read', seq: 1 },
	{ type: 'react', seq: 1, emoji: '👍', on: true },
	{ type: 'edit', seq: 1, body: 'rewritten' },
	{ type: 'hello', lastSeq: 0 },
	{ type: 'activity', away: false },
	{ type: 'send', clientId: 'late-2', body: 'hello??' }
];

function presenceIn(entries: PresenceEntry[], userId: string): string {
	return entries.find((p) => p.userId === userId)?.state ?? 'offline';
}

/** What `observer` last heard of someone's presence, from its welcome and presence frames. */
function lastPresence(observer: TestSocket, userId: string): string {
	let state = 'offline';
	for (const frame of observer.frames) {
		const list =
			frame.type === 'welcome' ? frame.presence : frame.type === 'presence' ? frame.members : [];
		state = list.find((p) => p.userId === userId)?.state ?? state;
	}
	return state;
}

type Decision = {
	name: string;
	/** Makes the room close mallory's sockets; `bobStays` when bob's sockets are not closed too. */
	decide: (room: ChatRoom, mallory: Person) => Promise<number>;
	bobStays: boolean;
};

const DECISIONS: Decision[] = [
	{ name: 'removed', decide: (room, m) => room.disconnectUser(m.id), bobStays: true },
	{ name: 'signed out', decide: (room) => room.endSessions(['mallory-session']), bobStays: true },
	{ name: 'the room deleted', decide: (room) => room.destroy(), bobStays: false }
];

/** A room where alice has said one thing, with bob and mallory connected. */
async function setUp() {
	const alice = await seedUser('alice');
	const bob = await seedUser('bob');
	const mallory = await seedUser('mallory');
	const room = await seedRoom(alice, bob, mallory);
	const a = await connect(room, alice, 0);
	const b = await connect(room, bob, 0);
	const m = await connect(room, mallory, 0, { sessionId: 'mallory-session' });
	a.send({ type: 'send', clientId: 'first', body: 'first' });
	await b.next('message');
	return { alice, bob, mallory, room, a, b, m };
}

describe("a socket the room closed: mallory's frames after the decision", () => {
	it('a removed member whose client sends on before it sees the close stores and shows nothing', async () => {
		const { alice, bob, mallory, room, a, b, m } = await setUp();

		expect(await roomStub(room).disconnectUser(mallory.id)).toBe(1);
		for (const frame of MALLORY_FRAMES) {
			try {
				m.send(frame);
			} catch {
				// Her side may already have seen the close; what got through is what matters.
			}
		}
		// What the room broadcasts reaches bob in order: alice's next message comes after anything
		// of mallory's.
		a.send({ type: 'send', clientId: 'second', body: 'second' });
		await b.next('message', (f) => f.message.clientId === 'second');

		expect(b.of('message').map((f) => f.message.clientId)).toEqual(['first', 'second']);
		expect(b.of('update')).toEqual([]);
		expect(await roomStub(room).lastSeq()).toBe(2);
		const carol = await connect(room, await seedUser('carol'), 0);
		const welcome = carol.of('welcome')[0]!;
		expect(presenceIn(welcome.presence, mallory.id)).toBe('offline');
		expect(welcome.typing).toEqual([]);
		expect(presenceIn(welcome.presence, alice.id)).toBe('online');
		expect(presenceIn(welcome.presence, bob.id)).toBe('online');
	});

	for (const { name, decide, bobStays } of DECISIONS) {
		it(`after ${name}, every frame still delivered from her socket changes nothing`, async () => {
			const { mallory, room, b } = await setUp();
			const stub = roomStub(room);
			const lastSeq = bobStays ? 1 : 0;

			await runInDurableObject(stub, async (instance: ChatRoom, state) => {
				const [ws] = state.getWebSockets(`session:mallory-session`);
				expect(await decide(instance, mallory)).toBeGreaterThanOrEqual(1);
				// The runtime delivers what her client sends until it answers the close frame.
				for (const frame of MALLORY_FRAMES) {
					await instance.webSocketMessage(ws!, JSON.stringify(frame));
				}
			});

			expect(await stub.lastSeq()).toBe(lastSeq);
			expect((await stub.unflushed({ limit: 10 })).map((m) => [m.body, m.reactions])).toEqual(
				bobStays ? [['first', undefined]] : []
			);
			if (bobStays) {
				const carol = await connect(room, await seedUser('carol'), 0);
				const welcome = carol.of('welcome')[0]!;
				expect(presenceIn(welcome.presence, mallory.id)).toBe('offline');
				expect(welcome.typing).toEqual([]);
			}
			await sleep(ROOM_STATE_INTERVAL_MS + 200);
			expect(b.of('message').map((f) => f.message.clientId)).toEqual(['first']);
			expect(b.of('update')).toEqual([]);
			expect(b.of('typing').flatMap((f) => f.users)).toEqual([]);
			if (bobStays) expect(lastPresence(b, mallory.id)).toBe('offline');
		});
	}

	it('after a wake, the room does not take back a socket it closed and that is still open', async () => {
		const { mallory, room, b } = await setUp();
		const stub = roomStub(room);

		await runInDurableObject(stub, async (instance: ChatRoom, state) => {
			const [ws] = state.getWebSockets(`user:${mallory.id}`);
			await instance.disconnectUser(mallory.id);
			// A new instance over the same sockets is what waking from hibernation is: mallory's
			// client never answered the close frame, so the runtime still holds her socket.
			const woken = new ChatRoom(state, env);
			for (const frame of MALLORY_FRAMES) {
				await woken.webSocketMessage(ws!, JSON.stringify(frame));
			}
			expect(await woken.lastSeq()).toBe(1);
		});

		expect(await stub.lastSeq()).toBe(1);
		await sleep(ROOM_STATE_INTERVAL_MS + 200);
		expect(b.of('message').map((f) => f.message.clientId)).toEqual(['first']);
		expect(b.of('typing').flatMap((f) => f.users)).toEqual([]);
		expect(lastPresence(b, mallory.id)).toBe('offline');
	});

	it('after a wake, a socket nobody closed is still served', async () => {
		const { bob, room, b } = await setUp();
		const stub = roomStub(room);
		const lastSeq = await runInDurableObject(stub, async (_instance: ChatRoom, state) => {
			const [ws] = state.getWebSockets(`user:${bob.id}`);
			const woken = new ChatRoom(state, env);
			await woken.webSocketMessage(
				ws!,
				JSON.stringify({ type: 'send', clientId: 'b1', body: 'bob, after a nap' })
			);
			return woken.lastSeq();
		});

		expect(lastSeq).toBe(2);
		expect(await b.next('ack')).toEqual({ type: 'ack', clientId: 'b1', seq: 2 });
	});
});
