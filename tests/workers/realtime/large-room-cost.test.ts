// What one message costs the room object in a large room where nearly everyone is offline: the
// storage statements per message must not grow with the number of members.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import type { ChatRoom } from '../../../workers/realtime/src/chat-room';
import { connect, roomStub, seedRoom, seedUser } from '../../helpers';

const MEMBERS = 1000;
const MESSAGES = 20;

/** Adds `count` offline members to a room straight into D1, two statements in all. */
async function addMembers(roomId: string, count: number): Promise<void> {
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
}

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
