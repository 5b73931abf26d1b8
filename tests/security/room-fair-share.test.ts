// One member must not be able to slow a room (or the realtime worker) down for everyone: one
// backlog per connection and a byte budget for it, a cap on each person's sockets, and unread
// signals that page only the members a message really mentions.
import { describe, expect, it } from 'vitest';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import {
	CloseCode,
	ErrorCode,
	MAX_HUB_SOCKETS_PER_USER,
	MAX_MENTIONS,
	MAX_ROOM_SOCKETS_PER_USER,
	type ChatMessage
} from '$shared/protocol';
import { readHistory } from '$lib/server/rooms/history';
import { BACKLOG_BYTES } from '../../workers/realtime/src/backlog';
import { ChatRoom } from '../../workers/realtime/src/chat-room';
import { IdentityHeader } from '$shared/identity';
import { connectHub, hubStub, seedPerson } from '../support/people';
import {
	addMembers,
	connect,
	db,
	roomStub,
	replayUnreadSignals,
	roomUpgrade,
	seedRoom,
	seedUser,
	sleep,
	type Person
} from '../helpers';

/** Fills a room with `count` messages of `body(i)`, as timeline entries of what `by` did. */
async function fill(
	roomId: string,
	by: Person,
	count: number,
	body: (i: number) => string
): Promise<void> {
	const actor = { userId: by.id, name: by.name, username: by.username };
	await runInDurableObject(roomStub(roomId), async (room: ChatRoom) => {
		for (let i = 1; i <= count; i++) {
			await room.postSystemMessage(roomId, `fill-${i}`, body(i), actor);
		}
	});
}

/** The close a socket gets, code and reason. */
function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
	return new Promise((resolve) => {
		ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }));
	});
}

describe('hello: one backlog per connection, within a byte budget', () => {
	it("mallory's 300 hellos on one socket get one backlog; the others are refused", async () => {
		const alice = await seedUser('alice');
		const mallory = await seedUser('mallory');
		const room = await seedRoom(alice, mallory);
		await fill(room, alice, 40, (i) => `${i} `.padEnd(4000, 'x'));
		const m = await connect(room, mallory);

		for (let n = 0; n < 300; n++) m.send({ type: 'hello', lastSeq: 0 });
		await m.until(() => m.of('backlog').length + m.of('error').length >= 300, 10_000);

		expect(m.of('welcome')).toHaveLength(1);
		expect(m.of('backlog')).toHaveLength(1);
		expect(m.of('backlog')[0]!.messages).toHaveLength(40);
		const codes = new Set(m.of('error').map((f) => f.code));
		expect([...codes].sort()).toEqual([ErrorCode.DuplicateHello, ErrorCode.RateLimited].sort());
		expect(m.of('error')).toHaveLength(299);
	});

	it('a hello after the room woke up is still the second one of its connection', async () => {
		const alice = await seedUser('alice');
		const mallory = await seedUser('mallory');
		const room = await seedRoom(alice, mallory);
		const m = await connect(room, mallory, 0);

		await runInDurableObject(roomStub(room), async (_instance: ChatRoom, state) => {
			const [ws] = state.getWebSockets(`user:${mallory.id}`);
			// A new instance over the same sockets is what waking from hibernation is.
			const woken = new ChatRoom(state, env);
			await woken.webSocketMessage(ws!, JSON.stringify({ type: 'hello', lastSeq: 0 }));
		});

		const refused = await m.next('error');
		expect(refused.code).toBe(ErrorCode.DuplicateHello);
		expect(m.of('backlog')).toHaveLength(1);
	});

	it('a backlog of large messages stays within its byte budget, and paging the rest gets each once', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		// Half of them two bytes a character: the budget is in bytes, not characters.
		await fill(room, alice, 300, (i) => `${i} `.padEnd(4000, i % 2 ? 'x' : 'é'));

		const b = await connect(room, bob, 0);
		const backlog = b.of('backlog')[0]!;
		const bytes = new TextEncoder().encode(JSON.stringify(backlog.messages)).byteLength;
		expect(bytes).toBeLessThanOrEqual(BACKLOG_BYTES);
		expect(backlog.more).toBe(true);
		expect(backlog.messages.length).toBeGreaterThan(0);

		// The client pages the rest over HTTP from the last seq it has, as it does for `more`.
		const seen: ChatMessage[] = [...backlog.messages];
		for (;;) {
			const page = await readHistory(db(), roomStub(room), room, { after: seen.at(-1)!.seq });
			seen.push(...page.messages);
			if (!page.hasMore) break;
		}
		expect(seen.map((m) => m.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
	}, 30_000);

	it('the changes to older messages a backlog replays share the same byte budget', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		await fill(room, alice, 300, (i) => `${i} short`);
		// Every one of them changed later, each now 4,000 characters long.
		await runInDurableObject(roomStub(room), (_room: ChatRoom, state) => {
			state.storage.sql.exec(
				`UPDATE messages SET body = substr(body || ' ' || printf('%.3990c', 'x'), 1, 4000),
				   rev = rev + 300`
			);
		});
		await evictDurableObject(roomStub(room));

		const b = await connect(room, bob, 300, { lastRev: 300 });
		const backlog = b.of('backlog')[0]!;
		const bytes = new TextEncoder().encode(JSON.stringify(backlog.updates)).byteLength;
		expect(backlog.more).toBe(true);
		expect(backlog.updates!.length).toBeGreaterThan(0);
		expect(bytes).toBeLessThanOrEqual(BACKLOG_BYTES);
	}, 30_000);
});

describe('sockets per person', () => {
	it("alice's 11th socket into a room is closed with 4008, and bob's sockets are not touched", async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		const mine = [];
		for (let n = 0; n < MAX_ROOM_SOCKETS_PER_USER; n++) mine.push(await connect(room, alice, 0));
		const bobs = [await connect(room, bob, 0), await connect(room, bob, 0)];

		const response = await roomStub(room).fetch(roomUpgrade(room, alice));
		const extra = response.webSocket!;
		const closed = closeOf(extra);
		extra.accept();
		expect(await closed).toEqual({
			code: CloseCode.TooManyConnections,
			reason: 'Too many open connections to this room; close some tabs.'
		});

		// Bob is not slowed by Alice's tabs: his sockets get her next message.
		mine[0]!.send({ type: 'send', clientId: 'c1', body: 'still works' });
		for (const b of bobs) expect((await b.next('message')).message.clientId).toBe('c1');
		// A tab closed makes room for one more.
		mine[1]!.close();
		await sleep(100);
		const again = await connect(room, alice, 0);
		expect(again.closed).toBeNull();
		expect(again.of('welcome')).toHaveLength(1);
	});

	it('the frames of a socket turned away at the cap change nothing, also after a wake', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		for (let n = 0; n < MAX_ROOM_SOCKETS_PER_USER; n++) await connect(room, alice, 0);
		const b = await connect(room, bob, 0);

		const lastSeq = await runInDurableObject(roomStub(room), async (instance: ChatRoom, state) => {
			const before = new Set(state.getWebSockets());
			// Its client end is never read, so the close is never answered: the socket stays.
			await instance.fetch(roomUpgrade(room, alice));
			const turnedAway = state.getWebSockets().filter((ws) => !before.has(ws));
			expect(turnedAway).toHaveLength(1);
			const ws = turnedAway[0]!;
			const frames = [
				{ type: 'hello', lastSeq: 0 },
				{ type: 'send', clientId: 'sneaky', body: 'over the cap' },
				{ type: 'typing' }
			];
			for (const frame of frames) await instance.webSocketMessage(ws, JSON.stringify(frame));
			const woken = new ChatRoom(state, env);
			for (const frame of frames) await woken.webSocketMessage(ws, JSON.stringify(frame));
			return Math.max(await instance.lastSeq(), await woken.lastSeq());
		});

		expect(lastSeq).toBe(0);
		await sleep(1200);
		expect(b.of('message')).toEqual([]);
		expect(b.of('typing').flatMap((f) => f.users)).toEqual([]);
	});

	it("alice's hub takes her first tabs and closes the one past the cap with 4008", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const tabs = [];
		for (let n = 0; n < MAX_HUB_SOCKETS_PER_USER; n++) tabs.push(await connectHub(alice));

		const response = await hubStub(alice.id).fetch('https://hub.internal/ws', {
			headers: { Upgrade: 'websocket', [IdentityHeader.UserId]: alice.id }
		});
		const extra = response.webSocket!;
		const closed = closeOf(extra);
		extra.accept();
		expect((await closed).code).toBe(CloseCode.TooManyConnections);
		expect(tabs.every((t) => !t.closed)).toBe(true);
		// Bob's own tabs open as usual.
		const bobTab = await connectHub(bob);
		expect(bobTab.of('welcome')).toHaveLength(1);
		for (const tab of [...tabs, bobTab]) tab.close();
	});
});

describe('mentions in unread signals', () => {
	it('an address like a@carol.example does not page carol as a mention', async () => {
		const alice = await seedPerson('alice');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, carol);
		const carolHub = await connectHub(carol);
		const a = await connect(room, alice, 0);

		a.send({
			type: 'send',
			clientId: 'm1',
			body: `write to mallory@${carol.username} for tickets`
		});
		const signal = await carolHub.next('room', (f) => f.roomId === room, 3000);
		expect(signal.reason).toBe('unread');
		expect(carolHub.of('room').filter((f) => f.reason === 'mention')).toEqual([]);
		a.close();
		carolHub.close();
	});

	it('a message naming 300 members pages at most 20 of them as mentioned', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const names = (await addMembers(room, 300)).map((m) => m.username);
		const a = await connect(room, alice, 0);
		// The room learns the members' usernames from D1 in the background.
		for (let tries = 0; ; tries++) {
			const known = await runInDurableObject(roomStub(room), (_i: ChatRoom, state) =>
				state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM members').one()
			);
			if (known.n > 300) break;
			expect(tries).toBeLessThan(50);
			await sleep(100);
		}

		a.send({ type: 'send', clientId: 'm1', body: names.map((n) => `@${n}`).join(' ') });
		const { message } = await a.next('message');
		expect(message.mentions).toHaveLength(MAX_MENTIONS);

		// The room's own signals, replayed with a HUBS binding that records what it is asked.
		const calls = await replayUnreadSignals(room, message, (id) => id === alice.id);
		const reasons = calls.map((call) => call.reason);
		expect(reasons.filter((r) => r === 'mention').length).toBeLessThanOrEqual(MAX_MENTIONS);
		a.close();
	}, 20_000);
});
