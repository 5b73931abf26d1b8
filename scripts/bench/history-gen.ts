// A generated message history for the search and history scenarios: 1,000,000 messages in 2,000
// rooms for 5,000 people, written straight into the bench's local D1 file with node:sqlite before
// the app starts (the migrations are already applied there). Deterministic from a seed; rooms'
// sizes and message counts follow long tails, bodies are drawn from a Zipf-ranked vocabulary.
//
// The search index is built the way migration 0011 builds it on an existing history: the insert
// trigger is dropped while the messages go in, then the migration's own statement fills the index
// in one go (timed: `indexBuildMs`), and the trigger is put back. The result is cached under
// `.bench-cache/`, keyed by the migrations' text and the generator's version, so that a second run
// copies a file instead of generating it again. Sessions are never cached: each run signs the
// chosen people in afresh.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
	copyFile,
	cp,
	mkdir,
	mkdtemp,
	readdir,
	readFile,
	rename,
	rm,
	stat,
	writeFile
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { generateSecretToken, hashSecret } from '../../src/lib/server/ids.ts';
import { accountWithToken, type Account } from '../lib/parley-client.ts';
import { log } from './log.ts';
import { makeVocabulary, messageBody, Random, Zipf, type Vocabulary } from './vocabulary.ts';

/** Bump when the generated data changes shape: the cache is keyed by it. */
export const GENERATOR_VERSION = 1;

const ROOT = new URL('../../', import.meta.url).pathname;
const CACHE_DIR = join(ROOT, '.bench-cache');
const MIGRATIONS_DIR = join(ROOT, 'drizzle');

export const PLAN = {
	seed: 'parley-history',
	users: 5_000,
	rooms: 2_000,
	messages: 1_000_000,
	/** People searched as, each a member of exactly `probeRooms` rooms (the search limit is per person). */
	probes: 8,
	probeRooms: 50,
	/** Of those, direct conversations; the rest are groups and public rooms. */
	probeDirect: 6,
	directRooms: 1_000,
	groupRooms: 700,
	/** The rest of the rooms are public. */
	vocabulary: 20_000,
	/** Zipf's exponent for how messages spread over rooms (by rank). */
	roomExponent: 0.9,
	historyDays: 365
} as const;

const DAY = 24 * 60 * 60 * 1000;
const MESSAGES_PER_TRANSACTION = 50_000;

export type ProbeRoom = { id: string; kind: 'direct' | 'group' | 'public'; lastSeq: number };

export type Probe = {
	userId: string;
	username: string;
	rooms: ProbeRoom[];
	/** Messages in their rooms: what a search of theirs ranges over. */
	scopeMessages: number;
	/** Usernames of people who wrote in their rooms, the most prolific first (for `from:`). */
	authors: string[];
};

/** What a generation leaves beside the cached file: enough for the scenarios and the report. */
export type HistoryMeta = {
	version: number;
	key: string;
	plan: typeof PLAN;
	probes: Probe[];
	counts: { users: number; rooms: number; memberships: number; messages: number; indexed: number };
	timings: {
		peopleAndRoomsMs: number;
		messagesMs: number;
		/** The migration's `INSERT INTO message_search … SELECT … FROM message_search_source`. */
		indexBuildMs: number;
		totalMs: number;
	};
	sizes: {
		fileBytes: number;
		/** FTS5's shadow tables (`message_search_data`, `_idx`, `_content`, `_docsize`, `_config`). */
		indexBytes: number;
		indexTables: Record<string, number>;
		/** The messages table and its three indexes. */
		messagesBytes: number;
		messagesTableBytes: number;
	};
};

export type HistoryData = HistoryMeta & {
	/** The probes signed in, in the same order. */
	accounts: Account[];
	/** The cached database (never the server's): for read-only sampling and copies. */
	cacheFile: string;
	cached: boolean;
	prepareMs: number;
	vocabulary: Vocabulary;
	/** The server's state folder (its D1 holds the history). */
	stateDir: string;
	/**
	 * A copy of that folder as seeded, taken before the server started (so no process had its
	 * files open), for scenarios that start servers of their own; null unless one asked for it.
	 */
	snapshot: string | null;
};

/** The local D1 database of a `--persist-to` folder (wrangler keeps it in miniflare's layout). */
export async function d1File(stateDir: string): Promise<string> {
	const dir = join(stateDir, 'v3/d1/miniflare-D1DatabaseObject');
	const names = (await readdir(dir)).filter(
		(n) => n.endsWith('.sqlite') && n !== 'metadata.sqlite'
	);
	if (names.length !== 1)
		throw new Error(`expected one D1 database in ${dir}, found ${names.length}`);
	return join(dir, names[0]!);
}

async function cacheKey(): Promise<string> {
	const hash = createHash('sha256');
	const names = (await readdir(MIGRATIONS_DIR)).filter((n) => n.endsWith('.sql')).sort();
	for (const name of names) {
		hash.update(name);
		hash.update(await readFile(join(MIGRATIONS_DIR, name)));
	}
	hash.update(`generator ${GENERATOR_VERSION} ${JSON.stringify(PLAN)}`);
	return hash.digest('hex').slice(0, 16);
}

/** Removes a database's WAL and shared-memory files (stale beside a file copied in). */
async function removeSidecars(file: string): Promise<void> {
	await Promise.all([rm(`${file}-wal`, { force: true }), rm(`${file}-shm`, { force: true })]);
}

/**
 * Puts the generated history into the state folder's D1 (generating it first if the cache has
 * none for these migrations) and signs the probes in. The server must not be running yet.
 */
export async function prepareHistory(stateDir: string): Promise<HistoryData> {
	const started = performance.now();
	const target = await d1File(stateDir);
	const key = await cacheKey();
	const cacheFile = join(CACHE_DIR, `history-${key}.sqlite`);
	const metaFile = join(CACHE_DIR, `history-${key}.json`);
	const cached = existsSync(cacheFile) && existsSync(metaFile);
	if (!cached) {
		await mkdir(CACHE_DIR, { recursive: true });
		// The migrations are in the state's WAL: fold them into the file before copying it.
		checkpoint(target);
		const scratch = `${cacheFile}.tmp-${process.pid}`;
		await copyFile(target, scratch);
		try {
			log(`history: generating ${PLAN.messages.toLocaleString('en')} messages (cache key ${key})`);
			const meta = generate(scratch, key);
			checkpoint(scratch);
			await removeSidecars(scratch);
			meta.sizes.fileBytes = (await stat(scratch)).size;
			await writeFile(metaFile, `${JSON.stringify(meta, null, '\t')}\n`);
			await rename(scratch, cacheFile);
			// Histories of other migrations or generator versions are never read again.
			for (const name of await readdir(CACHE_DIR)) {
				if (/^history-[0-9a-f]{16}\.(sqlite|json)$/.test(name) && !name.includes(key)) {
					await rm(join(CACHE_DIR, name), { force: true });
				}
			}
		} finally {
			await rm(scratch, { force: true });
			await removeSidecars(scratch);
		}
	} else {
		log(`history: reusing ${cacheFile}`);
	}
	const meta = JSON.parse(await readFile(metaFile, 'utf8')) as HistoryMeta;
	await removeSidecars(target);
	await copyFile(cacheFile, target);
	const accounts = signIn(target, meta.probes);
	const prepareMs = Math.round(performance.now() - started);
	log(
		`history: ready in ${(prepareMs / 1000).toFixed(1)} s (${cached ? 'from the cache' : 'generated'})`
	);
	return {
		...meta,
		accounts,
		cacheFile,
		cached,
		prepareMs,
		vocabulary: makeVocabulary(PLAN.seed, PLAN.vocabulary),
		stateDir,
		snapshot: null
	};
}

/** A copy of a state folder no process has open (before the server starts). */
export async function snapshotState(stateDir: string): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'parley-bench-snapshot-'));
	await cp(stateDir, dir, { recursive: true });
	return dir;
}

function checkpoint(file: string): void {
	const db = new DatabaseSync(file);
	try {
		db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
	} finally {
		db.close();
	}
}

/** A live session per probe, written as the app writes one (the token's hash is the row's id). */
function signIn(file: string, probes: Probe[]): Account[] {
	const db = new DatabaseSync(file);
	try {
		const now = Date.now();
		const insert = db.prepare(
			`INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, user_agent)
			 VALUES (?, ?, ?, ?, ?, 'parley-bench')`
		);
		db.exec('BEGIN');
		const accounts = probes.map((probe) => {
			const token = generateSecretToken();
			// last_seen_at = now: the session check then has nothing to write.
			insert.run(hashSecret(token), probe.userId, now, now, now + 30 * DAY);
			return accountWithToken(probe.username, token);
		});
		db.exec('COMMIT');
		return accounts;
	} finally {
		db.close();
	}
}

type RoomPlan = {
	id: string;
	kind: 'direct' | 'group' | 'public';
	name: string;
	directKey: string | null;
	createdBy: string;
	members: number[];
	/** Its share of all messages. */
	weight: number;
	/** Its members' odds of writing, by their place in `members`. */
	senders: Zipf | null;
	lastSeq: number;
	lastAt: number;
	lastBody: string;
};

const ATTACHMENT_KINDS = [
	{ kind: 'image', type: 'image/jpeg', ext: 'jpg' },
	{ kind: 'image', type: 'image/png', ext: 'png' },
	{ kind: 'document', type: 'application/pdf', ext: 'pdf' },
	{ kind: 'video', type: 'video/mp4', ext: 'mp4' },
	{ kind: 'audio', type: 'audio/mpeg', ext: 'mp3' }
] as const;

function nameWord(random: Random): string {
	const syllables = 'ba ko ri na le mo sa ti du ve ja lo mi ne ra so ta zu'.split(' ');
	const count = 2 + random.int(2);
	return Array.from({ length: count }, () => random.pick(syllables)).join('');
}

function capital(word: string): string {
	return word[0]!.toUpperCase() + word.slice(1);
}

/** Writes the whole history into `file` (a migrated D1 database with no people yet). */
function generate(file: string, key: string): HistoryMeta {
	const started = performance.now();
	const random = new Random(PLAN.seed);
	const vocabulary = makeVocabulary(PLAN.seed, PLAN.vocabulary);
	const db = new DatabaseSync(file);
	db.exec(`PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;
		PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF`);
	const end = Date.now() - 60 * 60 * 1000;
	const start = end - PLAN.historyDays * DAY;

	// People.
	const userIds: string[] = [];
	const usernames: string[] = [];
	const displayNames: string[] = [];
	db.exec('BEGIN');
	const insertUser = db.prepare(
		`INSERT INTO users (id, email, email_verified_at, username, username_key, display_name, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`
	);
	for (let i = 0; i < PLAN.users; i++) {
		const id = random.id();
		const first = nameWord(random);
		const last = nameWord(random);
		const username = i < PLAN.probes ? `searcher_${i + 1}` : `${first}_${last}${i}`;
		const createdAt = start - random.int(365) * DAY;
		insertUser.run(
			id,
			`${username}@example.test`,
			createdAt,
			username,
			username,
			`${capital(first)} ${capital(last)}`,
			createdAt
		);
		userIds.push(id);
		usernames.push(username);
		displayNames.push(`${capital(first)} ${capital(last)}`);
	}

	// Rooms: messages spread by a long tail over ranks; public rooms tend to hold the top ranks.
	const kinds: RoomPlan['kind'][] = [];
	for (let i = 0; i < PLAN.rooms; i++) {
		kinds.push(
			i < PLAN.directRooms ? 'direct' : i < PLAN.directRooms + PLAN.groupRooms ? 'group' : 'public'
		);
	}
	const bias = { public: 1, group: 3, direct: 6 };
	const order = kinds
		.map((kind, index) => ({ index, key: random.next() * bias[kind] }))
		.sort((a, b) => a.key - b.key);
	const rankOf = new Array<number>(PLAN.rooms);
	order.forEach((entry, rank) => (rankOf[entry.index] = rank));
	const roomZipf = new Zipf(PLAN.rooms, PLAN.roomExponent);

	const probeIds = Array.from({ length: PLAN.probes }, (_, i) => i);
	const others = PLAN.users - PLAN.probes;
	const someone = () => PLAN.probes + random.int(others);
	const distinctOthers = (count: number): number[] => {
		const chosen = new Set<number>();
		while (chosen.size < Math.min(count, others)) chosen.add(someone());
		return [...chosen];
	};
	const pairs = new Set<string>();
	const rooms: RoomPlan[] = kinds.map((kind, index) => {
		const rank = rankOf[index]!;
		let members: number[];
		if (kind === 'direct') {
			// The first direct rooms are the probes' own conversations.
			const probe = index < PLAN.probes * PLAN.probeDirect ? index % PLAN.probes : null;
			for (;;) {
				const a = probe ?? someone();
				const b = someone();
				const pair = [userIds[a]!, userIds[b]!].sort().join(':');
				if (a === b || pairs.has(pair)) continue;
				pairs.add(pair);
				members = [a, b];
				break;
			}
		} else if (kind === 'group') {
			const u = random.next();
			members = distinctOthers(3 + Math.floor(57 * u * u * u));
		} else {
			members = distinctOthers(Math.max(5, Math.min(2000, Math.round(2500 / (rank + 1) ** 0.8))));
		}
		const name =
			kind === 'direct' ? '' : `${capital(nameWord(random))} ${nameWord(random)} ${index}`;
		return {
			id: random.id(),
			kind,
			name,
			directKey:
				kind === 'direct' ? [userIds[members[0]!]!, userIds[members[1]!]!].sort().join(':') : null,
			createdBy: userIds[members[0]!]!,
			members,
			weight: roomZipf.share(rank),
			senders: null,
			lastSeq: 0,
			lastAt: 0,
			lastBody: ''
		};
	});

	// The probes' other rooms: half by how busy a room is, half at random; never one twice.
	const shared = rooms.filter((room) => room.kind !== 'direct');
	for (const probe of probeIds) {
		const want = PLAN.probeRooms - PLAN.probeDirect;
		const chosen = new Set<RoomPlan>();
		const byWeight = shared
			.map((room) => ({ room, key: random.next() ** (1 / room.weight) }))
			.sort((a, b) => b.key - a.key);
		for (const { room } of byWeight) {
			if (chosen.size >= want / 2) break;
			chosen.add(room);
		}
		while (chosen.size < want) chosen.add(random.pick(shared));
		for (const room of chosen) room.members.push(probe);
	}
	for (const room of rooms) {
		// Shuffle so the likeliest writer is not always the owner.
		const order = room.members
			.map((m) => ({ m, key: random.next() }))
			.sort((a, b) => a.key - b.key);
		room.members = order.map((o) => o.m);
		room.senders = new Zipf(room.members.length, 1);
	}

	const insertRoom = db.prepare(
		`INSERT INTO rooms (id, kind, name, direct_key, created_by, created_at, member_count)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`
	);
	const insertMember = db.prepare(
		`INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`
	);
	let memberships = 0;
	for (const room of rooms) {
		const createdAt = start - random.int(30) * DAY;
		insertRoom.run(
			room.id,
			room.kind,
			room.name,
			room.directKey,
			room.createdBy,
			createdAt,
			room.members.length
		);
		for (const member of room.members) {
			const role =
				room.kind !== 'direct' && userIds[member] === room.createdBy ? 'owner' : 'member';
			insertMember.run(room.id, userIds[member]!, role, createdAt);
			memberships++;
		}
	}
	db.exec('COMMIT');
	const peopleAndRoomsMs = performance.now() - started;

	// Messages, in time order, without the index's insert trigger (built below, as 0011 does).
	const trigger = db
		.prepare(
			`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'messages_search_insert'`
		)
		.get() as { sql: string } | undefined;
	if (!trigger) throw new Error('no messages_search_insert trigger: is migration 0011 applied?');
	db.exec('DROP TRIGGER messages_search_insert');
	const insertMessage = db.prepare(
		`INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, reply_to_seq,
		                       created_at, deleted_at, attachments)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	);
	const cumulative = new Float64Array(rooms.length);
	let total = 0;
	rooms.forEach((room, i) => (cumulative[i] = total += room.weight));
	const pickRoom = (): RoomPlan => {
		const u = random.next() * total;
		let lo = 0;
		let hi = rooms.length - 1;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (cumulative[mid]! < u) lo = mid + 1;
			else hi = mid;
		}
		return rooms[lo]!;
	};
	const messagesStarted = performance.now();
	const span = end - start;
	db.exec('BEGIN');
	for (let i = 0; i < PLAN.messages; i++) {
		if (i > 0 && i % MESSAGES_PER_TRANSACTION === 0) {
			db.exec('COMMIT; BEGIN');
			if (i % 200_000 === 0) log(`history: ${i.toLocaleString('en')} messages`);
		}
		const room = pickRoom();
		const seq = ++room.lastSeq;
		const at = start + Math.floor((i * span) / PLAN.messages);
		const sender = room.members[room.senders!.draw(random)]!;
		const roll = random.next();
		let kind = 'text';
		let body = messageBody(vocabulary, random);
		let deletedAt: number | null = null;
		let attachments: string | null = null;
		if (roll < 0.002) {
			kind = 'system';
			body = `${displayNames[sender]} added ${displayNames[random.pick(room.members)]}`;
		} else if (roll < 0.005) {
			body = '';
			deletedAt = at + 60_000;
		} else if (roll < 0.01) {
			const file = random.pick(ATTACHMENT_KINDS);
			const name = `${vocabulary.words[vocabulary.stopWords + random.int(2000)]}-${i}.${file.ext}`;
			attachments = JSON.stringify([
				{
					id: random.id(),
					name,
					type: file.type,
					kind: file.kind,
					size: 10_000 + random.int(5_000_000),
					...(file.kind === 'image' ? { width: 1200, height: 800 } : {})
				}
			]);
			if (random.chance(0.5)) body = '';
		} else if (roll < 0.02) {
			body += ` https://example.com/${vocabulary.words[vocabulary.stopWords + random.int(500)]}`;
		}
		const replyTo = seq > 1 && random.chance(0.03) ? Math.max(1, seq - 1 - random.int(50)) : null;
		insertMessage.run(
			room.id,
			seq,
			userIds[sender]!,
			random.id(21),
			kind,
			body,
			replyTo,
			at,
			deletedAt,
			attachments
		);
		room.lastAt = at;
		room.lastBody = deletedAt === null ? body : '';
	}
	const updateRoom = db.prepare(
		`UPDATE rooms SET last_message_seq = ?, last_message_at = ?, last_message_preview = ? WHERE id = ?`
	);
	for (const room of rooms) {
		if (room.lastSeq === 0) continue;
		updateRoom.run(
			room.lastSeq,
			room.lastAt,
			room.lastBody.replace(/\s+/g, ' ').slice(0, 120),
			room.id
		);
	}
	db.exec('COMMIT');
	const messagesMs = performance.now() - messagesStarted;

	log('history: building the search index (migration 0011’s statement)');
	const indexStarted = performance.now();
	db.exec(`INSERT INTO message_search (rowid, body, files, tags)
		SELECT key, body, files, tags FROM message_search_source`);
	const indexBuildMs = performance.now() - indexStarted;
	db.exec(trigger.sql);

	const count = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
	const probes: Probe[] = probeIds.map((probe) => {
		const own = rooms.filter((room) => room.members.includes(probe));
		const list = own.map((room) => `'${room.id}'`).join(',');
		const authors = db
			.prepare(
				`SELECT u.username AS username FROM messages m JOIN users u ON u.id = m.sender_id
				  WHERE m.room_id IN (${list}) AND m.kind = 'text'
				  GROUP BY m.sender_id ORDER BY count(*) DESC LIMIT 40`
			)
			.all() as { username: string }[];
		return {
			userId: userIds[probe]!,
			username: usernames[probe]!,
			rooms: own.map((room) => ({ id: room.id, kind: room.kind, lastSeq: room.lastSeq })),
			scopeMessages: own.reduce((sum, room) => sum + room.lastSeq, 0),
			authors: authors.map((a) => a.username).filter((name) => name !== usernames[probe])
		};
	});
	for (const probe of probes) {
		if (probe.rooms.length !== PLAN.probeRooms) {
			throw new Error(
				`${probe.username} is in ${probe.rooms.length} rooms, not ${PLAN.probeRooms}`
			);
		}
	}

	const pages = db.prepare(`SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name`).all() as {
		name: string;
		bytes: number;
	}[];
	const bytes = new Map(pages.map((p) => [p.name, Number(p.bytes)]));
	const indexTables = Object.fromEntries(
		[...bytes].filter(([name]) => name.startsWith('message_search_'))
	);
	const messageParts = [
		'messages',
		'sqlite_autoindex_messages_1',
		'messages_client_unique',
		'messages_sender_idx'
	];
	const meta: HistoryMeta = {
		version: GENERATOR_VERSION,
		key,
		plan: PLAN,
		probes,
		counts: {
			users: count('SELECT count(*) AS n FROM users'),
			rooms: count('SELECT count(*) AS n FROM rooms'),
			memberships,
			messages: count('SELECT count(*) AS n FROM messages'),
			indexed: count('SELECT count(*) AS n FROM message_search_docsize')
		},
		timings: {
			peopleAndRoomsMs: Math.round(peopleAndRoomsMs),
			messagesMs: Math.round(messagesMs),
			indexBuildMs: Math.round(indexBuildMs),
			totalMs: 0
		},
		sizes: {
			fileBytes: 0,
			indexBytes: Object.values(indexTables).reduce((a, b) => a + b, 0),
			indexTables,
			messagesBytes: messageParts.reduce((sum, name) => sum + (bytes.get(name) ?? 0), 0),
			messagesTableBytes: bytes.get('messages') ?? 0
		}
	};
	// Back to the journal the local D1 keeps.
	db.exec('PRAGMA journal_mode = WAL');
	db.close();
	meta.timings.totalMs = Math.round(performance.now() - started);
	return meta;
}
