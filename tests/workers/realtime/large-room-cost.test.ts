// What one message and one join cost the room object in a large room where nearly everyone is
// offline: the storage statements per message and the bytes of a welcome must not grow with the
// number of members.
import { describe, expect, it } from 'vitest';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import type { PresenceEntry } from '$shared/protocol';
import {
	RECEIPTS_LIVE_LIMIT,
	WELCOME_LAST_SEEN,
	type ChatRoom
} from '../../../workers/realtime/src/chat-room';
import {
	addMembers,
	connect,
	roomStub,
	seedRoom,
	seedUser,
	sleep,
	type Person
} from '../../helpers';

const MEMBERS = 1000;
const MESSAGES = 20;

/**
 * Makes the room remember each of `people` as having been here: the first a minute ago, each next
 * one a minute earlier, each with a read and delivery position. Then the object restarts and loads
 * them, as it would after any eviction.
 */
async function rememberVisits(roomId: string, people: Person[]): Promise<void> {
	const now = Date.now();
	await runInDurableObject(roomStub(roomId), (_instance: ChatRoom, state) => {
		people.forEach((p, i) => {
			state.storage.sql.exec(
				`INSERT INTO members (user_id, username, name, read_seq, delivered_seq, last_seen_at)
				 VALUES (?, ?, ?, 1, 1, ?)`,
				p.id,
				p.username,
				p.name,
				now - (i + 1) * 60_000
			);
		});
	});
	await evictDurableObject(roomStub(roomId));
}

/** How many members the room object knows (from sockets and from the directory in D1). */
async function knownMembers(roomId: string): Promise<number> {
	return runInDurableObject(roomStub(roomId), (_instance: ChatRoom, state) => {
		const row = state.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM members').one();
		return row.n;
	});
}

/** How many members the room remembers having told that it is unread. */
async function toldMembers(roomId: string): Promise<number> {
	return runInDurableObject(roomStub(roomId), (_instance: ChatRoom, state) => {
		const row = state.storage.sql
			.exec<{ n: number }>('SELECT count(*) AS n FROM unread_signals')
			.one();
		return row.n;
	});
}

const offline = (entries: PresenceEntry[]) => entries.filter((p) => p.state === 'offline');

/** Counts the storage statements the room object runs while `work` runs. */
async function countStatements(roomId: string, work: () => Promise<void>): Promise<number> {
	let count = 0;
	let restore = () => {};
	await runInDurableObject(roomStub(roomId), (_instance: ChatRoom, state) => {
		const sql = state.storage.sql;
		const exec = sql.exec.bind(sql);
		sql.exec = ((query: string, ...bindings: unknown[]) => {
			count++;
			return exec(query, ...bindings);
		}) as typeof sql.exec;
		restore = () => {
			sql.exec = exec;
		};
	});
	try {
		await work();
	} finally {
		await runInDurableObject(roomStub(roomId), () => restore());
	}
	return count;
}

describe('a large room', () => {
	it('a message costs a few storage statements, not one per offline member', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		await addMembers(room, MEMBERS);
		const a = await connect(room, alice, 0);
		// The first message loads the member list and marks everyone unread: a one-off cost.
		a.send({ type: 'send', clientId: 'warm', body: 'warm up' });
		await a.next('ack');
		await new Promise((r) => setTimeout(r, 300));

		const statements = await countStatements(room, async () => {
			for (let n = 1; n <= MESSAGES; n++) {
				a.send({ type: 'send', clientId: `c${n}`, body: `m${n}` });
			}
			await a.until((f) => f.filter((x) => x.type === 'ack').length === MESSAGES + 1);
			await new Promise((r) => setTimeout(r, 300));
		});
		// Before the member marks were kept in memory this was about 1,005 per message.
		expect(statements / MESSAGES).toBeLessThan(10);
		a.close();
	}, 60_000);
});

describe('joining a large room', () => {
	it('welcomes a newcomer with the members online, not all 1,000 members', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await seedRoom(alice, bob, carol);
		await addMembers(room, MEMBERS);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		// The first connection taught the room its 1,000 other members, from D1.
		for (let tries = 0; (await knownMembers(room)) < MEMBERS + 2; tries++) {
			if (tries > 50) throw new Error('the room never learned its members');
			await sleep(100);
		}
		await sleep(1200);

		const c = await connect(room, carol, 0);
		const welcome = c.of('welcome')[0]!;
		expect(welcome.presence.map((p) => p.userId).sort()).toEqual(
			[alice.id, bob.id, carol.id].sort()
		);
		// Never seen and never read: nothing to say about them, so nothing is said.
		expect(welcome.receipts.length).toBeLessThanOrEqual(3);
		expect(JSON.stringify(welcome).length).toBeLessThan(2_000);
		a.close();
		b.close();
		c.close();
	}, 60_000);

	it('welcomes with the 50 most recently seen offline members; the member list asks for the rest', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const people = await addMembers(room, MEMBERS);
		await rememberVisits(room, people);

		const a = await connect(room, alice, 0);
		const welcome = a.of('welcome')[0]!;
		expect(offline(welcome.presence).map((p) => p.userId)).toEqual(
			people.slice(0, WELCOME_LAST_SEEN).map((p) => p.id)
		);
		expect(welcome.receipts.length).toBeLessThanOrEqual(RECEIPTS_LIVE_LIMIT + 1);
		// About 100 bytes a member: the welcome of all 1,000 would weigh over 100 KB.
		expect(JSON.stringify(welcome).length).toBeLessThan(15_000);

		a.send({ type: 'presence' });
		const answer = await a.next('presence', (f) => f.members.length > 1);
		const lastSeen = new Map(answer.members.map((p) => [p.userId, p]));
		expect(lastSeen.size).toBe(MEMBERS);
		const longGone = lastSeen.get(people[MEMBERS - 1]!.id);
		expect(longGone).toMatchObject({ state: 'offline', lastSeenAt: expect.any(Number) });
		expect(longGone!.lastSeenAt).toBeLessThan(lastSeen.get(people[0]!.id)!.lastSeenAt!);
		// Once per connection: presence frames keep the list current after that.
		a.send({ type: 'presence' });
		await a.next('error', (f) => f.code === 'rate_limited');
		expect(a.of('presence').filter((f) => f.members.length > 1)).toHaveLength(1);

		// Someone who just left heads the next welcome's list, however long ago they came before.
		const oldest = people[MEMBERS - 1]!;
		const before = Date.now();
		const latecomer = await connect(room, oldest, 0);
		latecomer.close();
		await a.next('presence', (f) =>
			f.members.some((p) => p.userId === oldest.id && (p.lastSeenAt ?? 0) >= before)
		);
		const bob = await seedUser('bob');
		const b = await connect(room, bob, 0);
		expect(offline(b.of('welcome')[0]!.presence)[0]).toMatchObject({
			userId: oldest.id,
			lastSeenAt: expect.any(Number)
		});
		a.close();
		b.close();
	}, 60_000);
});

describe('a join storm', () => {
	it('a join and a leave cost a few storage statements, even right after a message told everyone', async () => {
		const alice = await seedUser('alice');
		const room = await seedRoom(alice);
		const people = await addMembers(room, MEMBERS);
		const a = await connect(room, alice, 0);
		for (let tries = 0; (await knownMembers(room)) < MEMBERS + 1; tries++) {
			if (tries > 50) throw new Error('the room never learned its members');
			await sleep(100);
		}
		// Every offline member's hub hears of it once the window ends, a chunk at a time.
		a.send({ type: 'send', clientId: 'hello-all', body: 'hello all' });
		await a.next('ack');
		for (let tries = 0; (await toldMembers(room)) < MEMBERS; tries++) {
			if (tries > 50) throw new Error('the members were never told');
			await sleep(100);
		}

		const JOINS = 20;
		const statements = await countStatements(room, async () => {
			for (const person of people.slice(0, JOINS)) {
				const socket = await connect(room, person, 1);
				socket.close();
			}
			await sleep(500);
		});
		// Each leave writes its last seen; the joins' marks go in one statement. It was 4 a join.
		expect(statements / JOINS).toBeLessThan(1.5);
		expect(await toldMembers(room)).toBe(MEMBERS - JOINS);
		a.close();
	}, 60_000);
});

describe('waking a large room', () => {
	it('a join after the room slept does not read its 1,000 members from D1 again', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const room = await seedRoom(alice, bob);
		await addMembers(room, MEMBERS);
		const a = await connect(room, alice, 0);
		for (let tries = 0; (await knownMembers(room)) < MEMBERS + 1; tries++) {
			if (tries > 50) throw new Error('the room never learned its members');
			await sleep(100);
		}
		a.close();
		await evictDurableObject(roomStub(room));

		// D1's member list changes while the room sleeps: a wake within the minute does not see it.
		await addMembers(room, 1);
		const b = await connect(room, bob, 0);
		await sleep(500);
		expect(await knownMembers(room)).toBe(MEMBERS + 2);
		b.close();
	}, 60_000);
});
