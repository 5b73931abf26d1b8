// flush-app: the room's flush to D1 through the app, with the search index and without it. Two
// more servers are started, one after the other, each on a copy of the bench's state as seeded
// (the generated history, the accounts and the scenario's room); in the second copy the triggers that
// write the index are dropped, as the database was before migration 0011. In each, the room's
// members send a burst of messages at once (within each one's send burst), and the copy's D1 file
// is read (read-only) every few ms to see the rows arrive: the flush copies 100 per batch, the
// next batch at once while more wait. The throughput is the rows after the first batch over the
// time from the first batch's arrival to the last one's, the median of a few rounds.
import { cp, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { d1File } from '../history-gen.ts';
import { log } from '../log.ts';
import { Recorder } from '../recorder.ts';
import { DevServer, freePort, makeStateDir, runtimeEntry } from '../server.ts';
import { drain, Session } from '../session.ts';
import { round } from '../stats.ts';
import { messageBody, Random, type Vocabulary } from '../vocabulary.ts';

const ROUNDS = 3;
/** Each member's send burst (SEND_RATE in the protocol module), and its refill at 5 a second. */
const SEND_BURST = 20;
const REFILL_MS = 4500;
const POLL_MS = 2;
const INDEX_TRIGGERS = [
	'messages_search_insert',
	'messages_search_update',
	'messages_search_delete'
];
const TARGET_RATIO = 0.5;

type Round = {
	messagesPerSec: number | null;
	batches: number;
	/** From the first send until every message is in D1. */
	allInD1Ms: number | null;
	/** From the last acknowledgement until every message is in D1. */
	afterLastAckMs: number | null;
	refused: number;
};

/** One burst: sends `count` messages over the senders at once and watches D1 take them in. */
async function burst(
	session: Session,
	count: number,
	db: DatabaseSync,
	roomId: string,
	vocabulary: Vocabulary,
	random: Random,
	signal: AbortSignal
): Promise<Round> {
	const rows = db.prepare('SELECT count(*) AS n FROM messages WHERE room_id = ?');
	const inD1 = () => Number((rows.get(roomId) as { n: number }).n);
	const before = inD1();
	const clients = session.clients;
	const recorder = new Recorder(count, clients.length, 120);
	session.track(recorder, clients);
	const started = performance.now();
	for (let i = 0; i < count; i++) {
		const n = recorder.issue(performance.now());
		if (n === null) break;
		clients[n % clients.length]!.send(recorder, n, messageBody(vocabulary, random));
	}
	// Watch D1 while the room acknowledges, broadcasts and flushes.
	const arrivals: { at: number; rows: number }[] = [];
	let last = before;
	let lastAck = 0;
	const deadline = started + 60_000;
	while (last < before + count && performance.now() < deadline) {
		signal.throwIfAborted();
		const now = inD1();
		if (now !== last) arrivals.push({ at: performance.now(), rows: now - before });
		if (lastAck === 0 && recorder.acked >= count) lastAck = performance.now();
		last = now;
		await sleep(POLL_MS);
	}
	await drain(recorder, clients, signal, 10_000);
	const first = arrivals[0];
	const end = arrivals.at(-1);
	const done = last >= before + count && end !== undefined;
	const span = first && end ? end.at - first.at : 0;
	return {
		messagesPerSec:
			done && first && span > 0 ? Math.round(((end.rows - first.rows) * 1000) / span) : null,
		batches: arrivals.length,
		allInD1Ms: done ? round(end.at - started) : null,
		afterLastAckMs: done && lastAck > 0 ? round(end.at - lastAck) : null,
		refused: recorder.refused
	};
}

/** The same bursts on a server of its own over a copy of the bench's state. */
async function variant(
	ctx: Context,
	name: 'with' | 'without',
	members: number,
	count: number
): Promise<Result> {
	const history = ctx.history!;
	const roomId = ctx.rooms['flush-app']!;
	if (!history.snapshot) throw new Error('flush-app: no snapshot of the seeded state');
	const dir = await makeStateDir();
	let server: DevServer | null = null;
	let db: DatabaseSync | null = null;
	try {
		await cp(history.snapshot, dir, { recursive: true });
		const file = await d1File(dir);
		if (name === 'without') {
			const write = new DatabaseSync(file);
			for (const trigger of INDEX_TRIGGERS) write.exec(`DROP TRIGGER ${trigger}`);
			write.close();
		}
		server = await DevServer.start(dir, await freePort());
		const base = (server.pid ? await runtimeEntry(server.pid) : null) ?? server.url;
		db = new DatabaseSync(file, { readOnly: true });
		const session = new Session({ ...ctx, base }, 'flush-app', ctx.accounts.slice(0, members));
		try {
			await session.connect(session.clients, ctx.signal);
			const random = new Random(`flush-app ${name}`);
			const rounds: Round[] = [];
			for (let i = 0; i < ROUNDS; i++) {
				await sleep(REFILL_MS, undefined, { signal: ctx.signal });
				const result = await burst(
					session,
					count,
					db,
					roomId,
					history.vocabulary,
					random,
					ctx.signal
				);
				log(`flush-app ${name} the index, round ${i + 1}: ${JSON.stringify(result)}`);
				rounds.push(result);
			}
			const rates = rounds.map((r) => r.messagesPerSec ?? 0).sort((a, b) => a - b);
			return { messagesPerSec: rates[rates.length >> 1] ?? null, rounds };
		} finally {
			await session.close();
		}
	} finally {
		db?.close();
		await server?.stop();
		await rm(dir, { recursive: true, force: true });
	}
}

export const flushApp: Scenario = {
	defaults: { clients: 50, senders: 50, rate: 0, duration: 0, count: 1000 },
	accounts: (s) => s.clients,
	history: true,
	snapshot: true,
	async run(ctx: Context, s: Settings): Promise<Result> {
		if (!ctx.history) throw new Error('flush-app needs the generated history (not with --url)');
		const count = s.count ?? 1000;
		if (count > s.clients * SEND_BURST) {
			log(`flush-app: ${count} messages from ${s.clients} members exceed their send bursts`);
		}
		log(`flush-app: ${ROUNDS} bursts of ${count} from ${s.clients} members, with the index`);
		const withIndex = await variant(ctx, 'with', s.clients, count);
		log('flush-app: the same without the index');
		const without = await variant(ctx, 'without', s.clients, count);
		const a = withIndex.messagesPerSec as number | null;
		const b = without.messagesPerSec as number | null;
		return {
			scenario: 'flush-app',
			messagesPerBurst: count,
			members: s.clients,
			withIndex,
			withoutIndex: without,
			ratio: a && b ? round(a / b, 2) : null,
			targetRatio: TARGET_RATIO,
			method: 'rows arriving in each copy’s D1 file, read-only, every 2 ms'
		};
	}
};
