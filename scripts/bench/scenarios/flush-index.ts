// flush-index: what the search index costs the room's flush to D1. The flush (the realtime
// worker's flush.ts) writes a batch of up to 100 messages as one transaction: the room's row, then
// one upsert per message; migration 0011's triggers add each new message to the index inside it.
// Through the app the room's own work (acknowledging, broadcasting) sets the pace, not D1 (see
// flush-app), so this times the flush's own statements (built with drizzle exactly as flush.ts builds them) on two
// copies of the generated history with node:sqlite: one as migrated, one with the triggers that
// write the index dropped, as the database was before 0011. The same batches (100 new messages to
// a room, rooms picked by how busy they are) go to both, alternating in rounds so that neither
// gets a warmer machine. WAL and the default page cache; twice: synchronous=NORMAL (the database's
// own work per batch) and synchronous=FULL (a sync at every commit, as a durable store pays).
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { and, eq, lte, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import { messages, rooms } from '../../../shared/db/schema.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { Histogram, round } from '../stats.ts';
import { latency } from '../timed-get.ts';
import { messageBody, Random } from '../vocabulary.ts';

const BATCH = 100;
const ROUND = 10;
const WARMUP_BATCHES = 10;
/** The floor: the flush with the index keeps at least half of its throughput without. */
const TARGET_RATIO = 0.5;
/** What 0011 adds to every write of a message (the room's one is not on the flush's path). */
const INDEX_TRIGGERS = [
	'messages_search_insert',
	'messages_search_update',
	'messages_search_delete'
];

type Row = {
	seq: number;
	clientId: string;
	senderId: string;
	kind: 'text';
	body: string;
	replyToSeq: number | null;
	mentions: string;
	reactions: string;
	createdAt: number;
	editedAt: null;
	deletedAt: null;
	attachments: null;
};
type Batch = { roomId: string; rows: Row[] };

/** The flush's statements for one batch, as drizzle writes them in flush.ts. */
const orm = drizzle(async () => ({ rows: [] }));
function flushStatements(batch: Batch) {
	const last = batch.rows.at(-1)!;
	const statements = [
		orm
			.update(rooms)
			.set({
				lastMessageSeq: last.seq,
				lastMessageAt: last.createdAt,
				lastMessagePreview: last.body.slice(0, 120)
			})
			.where(and(eq(rooms.id, batch.roomId), lte(rooms.lastMessageSeq, last.seq)))
			.toSQL()
	];
	for (const row of batch.rows) {
		statements.push(
			orm
				.insert(messages)
				.values({ roomId: batch.roomId, ...row })
				.onConflictDoUpdate({
					target: [messages.roomId, messages.seq],
					set: {
						body: sql`excluded.body`,
						mentions: sql`excluded.mentions`,
						reactions: sql`excluded.reactions`,
						editedAt: sql`excluded.edited_at`,
						deletedAt: sql`excluded.deleted_at`,
						attachments: sql`excluded.attachments`
					}
				})
				.toSQL()
		);
	}
	return statements;
}

/** The batches: busy rooms get more of them; every message is new, in its room's order. */
function makeBatches(
	db: DatabaseSync,
	count: number,
	vocabulary: Parameters<typeof messageBody>[0]
) {
	const random = new Random('flush-batches');
	const all = db
		.prepare(
			`SELECT id, last_message_seq AS seq, last_message_at AS at FROM rooms WHERE last_message_seq > 0`
		)
		.all() as { id: string; seq: number; at: number }[];
	const members = db.prepare(`SELECT user_id AS id FROM memberships WHERE room_id = ?`);
	const total = all.reduce((sum, room) => sum + room.seq, 0);
	const next = new Map(all.map((room) => [room.id, room.seq]));
	const people = new Map<string, string[]>();
	let at = Math.max(...all.map((room) => room.at));
	const batches: Batch[] = [];
	for (let i = 0; i < count; i++) {
		let left = random.next() * total;
		const room = all.find((r) => (left -= r.seq) < 0) ?? all.at(-1)!;
		if (!people.has(room.id)) {
			people.set(
				room.id,
				(members.all(room.id) as { id: string }[]).map((m) => m.id)
			);
		}
		const senders = people.get(room.id)!;
		const rows: Row[] = [];
		for (let j = 0; j < BATCH; j++) {
			const seq = next.get(room.id)! + 1;
			next.set(room.id, seq);
			rows.push({
				seq,
				clientId: random.id(21),
				senderId: random.pick(senders),
				kind: 'text',
				body: messageBody(vocabulary, random),
				replyToSeq: null,
				mentions: '[]',
				reactions: '{}',
				createdAt: (at += 20),
				editedAt: null,
				deletedAt: null,
				attachments: null
			});
		}
		batches.push({ roomId: room.id, rows });
	}
	return batches;
}

/** Batch times of one variant in one durability mode. */
class Series {
	readonly times = new Histogram();
	rows = 0;
	ms = 0;
	cpuMs = 0;

	add(rows: number, { ms, cpuMs }: { ms: number; cpuMs: number }): void {
		this.times.add(ms);
		this.rows += rows;
		this.ms += ms;
		this.cpuMs += cpuMs;
	}

	figures() {
		return {
			messagesPerSec: Math.round((this.rows * 1000) / this.ms),
			// On CPU time: what other processes on the machine take from it does not count.
			messagesPerCpuSec: Math.round((this.rows * 1000) / this.cpuMs),
			batchMs: latency(this.times)
		};
	}
}

class Variant {
	readonly db: DatabaseSync;
	#prepared = new Map<string, StatementSync>();

	constructor(file: string) {
		this.db = new DatabaseSync(file);
	}

	/** One batch as one transaction, as D1 runs the flush's batch; its time and CPU time in ms. */
	run(batch: Batch): { ms: number; cpuMs: number } {
		const statements = flushStatements(batch);
		const cpu = process.cpuUsage();
		const started = performance.now();
		this.db.exec('BEGIN');
		for (const statement of statements) {
			let prepared = this.#prepared.get(statement.sql);
			if (!prepared) this.#prepared.set(statement.sql, (prepared = this.db.prepare(statement.sql)));
			prepared.run(...(statement.params as (string | number | null)[]));
		}
		this.db.exec('COMMIT');
		const ms = performance.now() - started;
		const used = process.cpuUsage(cpu);
		return { ms, cpuMs: (used.user + used.system) / 1000 };
	}
}

/**
 * The durability the figures are taken with: NORMAL (WAL: no sync at commit, the database's own
 * work per batch) and FULL (WAL synced at every commit, as a durable store does at least).
 */
const MODES = ['NORMAL', 'FULL'] as const;

export const flushIndex: Scenario = {
	defaults: { clients: 1, senders: 1, rate: 0, duration: 0, count: 200 },
	accounts: () => 1,
	history: true,
	async run(ctx: Context, s: Settings): Promise<Result> {
		const history = ctx.history;
		if (!history) throw new Error('flush-index needs the generated history (not with --url)');
		const count = s.count ?? 200;
		const dir = await mkdtemp(join(tmpdir(), 'parley-flush-'));
		let withIndex: Variant | null = null;
		let without: Variant | null = null;
		try {
			log('flush-index: two copies of the history (with the index, and without its triggers)');
			await Promise.all([
				copyFile(history.cacheFile, join(dir, 'with.sqlite')),
				copyFile(history.cacheFile, join(dir, 'without.sqlite'))
			]);
			withIndex = new Variant(join(dir, 'with.sqlite'));
			without = new Variant(join(dir, 'without.sqlite'));
			for (const name of INDEX_TRIGGERS) without.db.exec(`DROP TRIGGER ${name}`);
			const batches = makeBatches(
				withIndex.db,
				WARMUP_BATCHES + count * MODES.length,
				history.vocabulary
			);
			for (const batch of batches.slice(0, WARMUP_BATCHES)) {
				withIndex.run(batch);
				without.run(batch);
			}
			const figures: Record<string, Result> = {};
			let next = WARMUP_BATCHES;
			for (const mode of MODES) {
				log(`flush-index: ${count} batches of ${BATCH} to each, synchronous=${mode}`);
				for (const variant of [withIndex, without]) variant.db.exec(`PRAGMA synchronous = ${mode}`);
				const series = new Map([
					[withIndex, new Series()],
					[without, new Series()]
				]);
				const measured = batches.slice(next, next + count);
				next += count;
				for (let at = 0, turn = 0; at < measured.length; at += ROUND, turn++) {
					ctx.signal.throwIfAborted();
					const slice = measured.slice(at, at + ROUND);
					// Alternating who goes first, so that neither gets a warmer machine.
					const order = turn % 2 === 0 ? [withIndex, without] : [without, withIndex];
					for (const variant of order) {
						for (const batch of slice)
							series.get(variant)!.add(batch.rows.length, variant.run(batch));
					}
					// Let the event loop breathe (the abort signal, the time limit).
					await new Promise((resolve) => setImmediate(resolve));
				}
				const a = series.get(withIndex)!.figures();
				const b = series.get(without)!.figures();
				figures[mode === 'NORMAL' ? 'work' : 'durable'] = {
					synchronous: mode,
					withIndex: a,
					withoutIndex: b,
					ratio: round(a.messagesPerSec / b.messagesPerSec, 2),
					cpuRatio: round(a.messagesPerCpuSec / b.messagesPerCpuSec, 2)
				};
			}
			const indexed = (
				withIndex.db.prepare('SELECT count(*) AS n FROM message_search_docsize').get() as {
					n: number;
				}
			).n;
			return {
				scenario: 'flush-index',
				batches: count,
				batchSize: BATCH,
				...figures,
				targetRatio: TARGET_RATIO,
				indexedAfter: Number(indexed),
				historyMessages: history.counts.messages,
				method: 'flush.ts statements on copies of the history, node:sqlite, WAL'
			};
		} finally {
			withIndex?.db.close();
			without?.db.close();
			await rm(dir, { recursive: true, force: true });
		}
	}
};
