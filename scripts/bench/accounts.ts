// Bench accounts. A thousand registrations through the form would cost a thousand password hashes,
// so accounts, sessions, rooms and memberships are written straight into the bench's own local D1,
// with the app's own token hashing. Every socket still goes through the door's session and
// membership checks. Against a server whose state the bench cannot reach, the form is used instead.
import { generateId, generateSecretToken, hashSecret } from '../../src/lib/server/ids.ts';
import {
	accountWithToken,
	createRoom,
	joinRoom,
	register,
	type Account
} from '../lib/parley-client.ts';
import { log } from './log.ts';

const DAY = 24 * 60 * 60 * 1000;
const ROWS_PER_INSERT = 200;

export type Population = { accounts: Account[]; rooms: Record<string, string> };

/**
 * A room and how many of the first accounts belong to it: exactly the scenario's people. Offline
 * members are not free (the room tells each one's hub about unread news), so no room gets more.
 */
export type RoomSpec = {
	name: string;
	members: number;
	/** The index of the room's first account (its owner); the members are the ones after it. */
	first?: number;
	kind?: 'public' | 'direct';
};

function quote(value: string): string {
	return `'${value.replaceAll("'", "''")}'`;
}

function inserts(table: string, columns: string[], rows: (string | number)[][]): string {
	const out: string[] = [];
	for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
		const values = rows
			.slice(i, i + ROWS_PER_INSERT)
			.map(
				(row) => `(${row.map((v) => (typeof v === 'number' ? String(v) : quote(v))).join(', ')})`
			);
		out.push(`INSERT INTO ${table} (${columns.join(', ')}) VALUES\n${values.join(',\n')};`);
	}
	return out.join('\n');
}

/** SQL for `count` accounts with live sessions, and one public room per name with all of them in it. */
export function seedSql(
	count: number,
	roomSpecs: RoomSpec[]
): { sql: string; population: Population } {
	const now = Date.now();
	const tag = generateId().slice(0, 5);
	const users: (string | number)[][] = [];
	const sessions: (string | number)[][] = [];
	const accounts: Account[] = [];
	const userIds: string[] = [];
	for (let i = 0; i < count; i++) {
		const id = generateId();
		const username = `bench_${tag}_${i}`;
		const token = generateSecretToken();
		userIds.push(id);
		users.push([id, `${username}@example.test`, username, username, `Bench ${i}`, now]);
		// last_seen_at = now: the door's session check then has nothing to write.
		sessions.push([hashSecret(token), id, now, now, now + 30 * DAY, 'parley-bench']);
		accounts.push(accountWithToken(username, token));
	}
	const rooms: Record<string, string> = {};
	const roomRows: (string | number)[][] = [];
	const memberships: (string | number)[][] = [];
	const directKeys: [string, string][] = [];
	for (const { name, members, first = 0, kind = 'public' } of roomSpecs) {
		const roomId = generateId();
		const memberIds = userIds.slice(first, Math.min(first + members, count));
		rooms[name] = roomId;
		roomRows.push([roomId, kind, `Bench: ${name}`, memberIds[0]!, now, memberIds.length]);
		if (kind === 'direct') directKeys.push([roomId, [...memberIds].sort().join(':')]);
		memberIds.forEach((userId, i) =>
			memberships.push([roomId, userId, i === 0 ? 'owner' : 'member', now])
		);
	}
	const sql = [
		inserts(
			'users',
			['id', 'email', 'username', 'username_key', 'display_name', 'created_at'],
			users
		),
		inserts(
			'sessions',
			['id', 'user_id', 'created_at', 'last_seen_at', 'expires_at', 'user_agent'],
			sessions
		),
		inserts('rooms', ['id', 'kind', 'name', 'created_by', 'created_at', 'member_count'], roomRows),
		inserts('memberships', ['room_id', 'user_id', 'role', 'joined_at'], memberships),
		...directKeys.map(
			([roomId, key]) => `UPDATE rooms SET direct_key = ${quote(key)} WHERE id = ${quote(roomId)};`
		)
	].join('\n');
	return { sql, population: { accounts, rooms } };
}

/** Runs `work` over `items`, `concurrency` at a time. */
export async function inParallel<T>(
	items: T[],
	concurrency: number,
	work: (item: T, index: number) => Promise<void>
): Promise<void> {
	let next = 0;
	const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
		while (next < items.length) {
			const index = next++;
			await work(items[index]!, index);
		}
	});
	await Promise.all(workers);
}

/** The slow way, for a server whose D1 the bench cannot write: the real forms, every time. */
export async function populateThroughForms(
	base: string,
	count: number,
	roomSpecs: RoomSpec[],
	signal: AbortSignal
): Promise<Population> {
	const tag = generateId().slice(0, 5);
	const accounts: Account[] = new Array<Account>(count);
	log(`registering ${count} accounts through the form (one password hash each)…`);
	await inParallel(
		Array.from({ length: count }, (_, i) => i),
		4,
		async (i) => {
			signal.throwIfAborted();
			accounts[i] = await register(base, `bench_${tag}_${i}`, signal);
		}
	);
	const rooms: Record<string, string> = {};
	// Every room is public here: the forms make direct conversations only between friends.
	for (const { name, members, first = 0 } of roomSpecs) {
		const roomId = await createRoom(base, accounts[first]!, `Bench: ${name}`);
		rooms[name] = roomId;
		await inParallel(accounts.slice(first + 1, first + members), 16, async (account) => {
			signal.throwIfAborted();
			await joinRoom(base, account, roomId);
		});
		log(`room for ${name}: ${members} members`);
	}
	return { accounts, rooms };
}
