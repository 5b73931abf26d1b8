// search: how long `GET /api/search` takes for a person in 50 rooms of the generated history
// (history-gen.ts: 1,000,000 messages). After a warm-up, a realistic mix of queries, one at a time
// over HTTP: single words drawn by frequency (not stop words), two words and a phrase taken from a
// real message of theirs, a prefix (`abc*`), a `from:@person` filter, `sort=best`, and one room (`room=`).
// Figures per kind and overall, with how many results came back, and the index's size on disk.
//
// The endpoint's rate limit is per person (120 a minute): the queries rotate over the history's
// searchers (each in exactly 50 rooms) and each one is paced to stay under 100 a minute, so the
// limit is never what is measured; a 429 is still counted and waited out if one comes.
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import type { HistoryData, Probe } from '../history-gen.ts';
import { log } from '../log.ts';
import { startMeter } from '../meter.ts';
import { Histogram, round } from '../stats.ts';
import { latency, timedGet } from '../timed-get.ts';
import { isStopWord } from '../../../src/lib/search-query.ts';
import { Random, searchWord } from '../vocabulary.ts';

const WARMUP = 24;
/** The target for a search's p99. */
const TARGET_P99_MS = 100;
/** Per person and minute: under the endpoint's 120, whatever the window's phase. */
const PACE_PER_MINUTE = 100;
const KINDS = ['word', 'two-words', 'phrase', 'prefix', 'from', 'best', 'room'] as const;
type Kind = (typeof KINDS)[number];
/** The mix, in tenths. */
const MIX: Record<Kind, number> = {
	word: 3,
	'two-words': 2,
	phrase: 1,
	prefix: 1,
	from: 1,
	best: 1,
	room: 1
};

type Query = { kind: Kind; probe: number; path: string; q: string };

// The app's own rule (accents folded, as the index folds them), so no query is one it refuses.
const stop = { has: isStopWord };

/**
 * Words from real messages in the person's rooms: two or three in a row (a phrase), or two of
 * the message's words that are not stop words (two words someone remembers from a message).
 */
function messageSampler(history: HistoryData, random: Random) {
	// Only read; not opened read-only, which would leave the WAL's side files behind in the cache.
	const db = new DatabaseSync(history.cacheFile);
	const read = db.prepare(
		`SELECT body FROM messages WHERE room_id = ? AND seq = ? AND kind = 'text' AND deleted_at IS NULL`
	);
	const words = (probe: Probe): string[] => {
		const room = busyRoom(probe, random);
		const row = read.get(room.id, 1 + random.int(room.lastSeq)) as { body: string } | undefined;
		return (row?.body ?? '')
			.split(/\s+/)
			.map((w) => w.replace(/[^\p{L}\p{N}\p{M}]/gu, ''))
			.filter(Boolean);
	};
	return {
		phrase(probe: Probe): string {
			for (let attempt = 0; attempt < 200; attempt++) {
				const found = words(probe);
				if (found.length < 3) continue;
				const length = 2 + random.int(2);
				const at = random.int(found.length - length + 1);
				const picked = found.slice(at, at + length);
				if (picked.every((w) => stop.has(w.toLowerCase()))) continue;
				return picked.join(' ');
			}
			throw new Error('no phrase found in the history');
		},
		pair(probe: Probe): string {
			for (let attempt = 0; attempt < 200; attempt++) {
				const found = [...new Set(words(probe).filter((w) => !stop.has(w.toLowerCase())))];
				if (found.length < 2) continue;
				const a = random.int(found.length);
				let b = random.int(found.length - 1);
				if (b >= a) b++;
				return `${found[Math.min(a, b)]} ${found[Math.max(a, b)]}`;
			}
			throw new Error('no two words found in the history');
		},
		close: () => db.close()
	};
}

/** One of the person's rooms, likelier the more it holds. */
function busyRoom(probe: Probe, random: Random) {
	const total = probe.rooms.reduce((sum, room) => sum + room.lastSeq, 0);
	let left = random.next() * total;
	for (const room of probe.rooms) {
		left -= room.lastSeq;
		if (left < 0) return room;
	}
	return probe.rooms.at(-1)!;
}

function makeQueries(history: HistoryData, count: number, seed: string): Query[] {
	const random = new Random(seed);
	const vocabulary = history.vocabulary;
	const sampler = messageSampler(history, random);
	const deck = KINDS.flatMap((kind) => Array<Kind>(MIX[kind]).fill(kind));
	const queries: Query[] = [];
	try {
		for (let i = 0; i < count; i++) {
			const kind = deck[random.int(deck.length)]!;
			const probeIndex = i % history.probes.length;
			const probe = history.probes[probeIndex]!;
			const word = (): string => {
				const drawn = searchWord(vocabulary, random);
				return isStopWord(drawn) ? word() : drawn;
			};
			let q: string;
			let extra = '';
			switch (kind) {
				case 'word':
				case 'best':
					q = word();
					if (kind === 'best') extra = '&sort=best';
					break;
				case 'two-words':
					q = sampler.pair(probe);
					break;
				case 'phrase':
					q = `"${sampler.phrase(probe)}"`;
					break;
				case 'prefix': {
					// The endpoint refuses a stem that is a stop word ("be*") as too broad.
					let stem = '';
					while ([...stem].length < 2 || stop.has(stem)) {
						stem = [...word()].slice(0, 2 + random.int(2)).join('');
					}
					q = `${stem}*`;
					break;
				}
				case 'from': {
					const author = random.pick(probe.authors.slice(0, 20));
					q = random.chance(0.5) ? `from:@${author}` : `from:@${author} ${word()}`;
					break;
				}
				case 'room':
					q = word();
					extra = `&room=${busyRoom(probe, random).id}`;
					break;
			}
			queries.push({
				kind,
				probe: probeIndex,
				q,
				path: `/api/search?q=${encodeURIComponent(q)}${extra}`
			});
		}
	} finally {
		sampler.close();
	}
	return queries;
}

type Answer = { items: number; more: boolean };

function answerOf(body: unknown): Answer | null {
	const messages = (body as { messages?: { items?: unknown; nextCursor?: unknown } } | null)
		?.messages;
	if (!messages || !Array.isArray(messages.items)) return null;
	return { items: messages.items.length, more: messages.nextCursor != null };
}

/** Keeps each person under PACE_PER_MINUTE requests in any minute. */
class Pacer {
	#sent = new Map<number, number[]>();

	async wait(who: number, signal: AbortSignal): Promise<void> {
		const times = this.#sent.get(who) ?? [];
		const now = Date.now();
		while (times.length > 0 && times[0]! <= now - 60_000) times.shift();
		if (times.length >= PACE_PER_MINUTE) {
			await sleep(times[0]! + 60_000 - now, undefined, { signal });
		}
		times.push(Date.now());
		this.#sent.set(who, times);
	}
}

export const search: Scenario = {
	defaults: { clients: 1, senders: 1, rate: 0, duration: 0, count: 300 },
	accounts: () => 1,
	history: true,
	async run(ctx: Context, s: Settings): Promise<Result> {
		const history = ctx.history;
		if (!history) throw new Error('search needs the generated history (not with --url)');
		const count = s.count ?? 300;
		const warmup = makeQueries(history, WARMUP, 'search-warmup');
		const queries = makeQueries(history, count, 'search-queries');
		const pacer = new Pacer();
		let rateLimited = 0;
		let rateLimitWaitS = 0;
		const errors: { status: number; q: string; body: string }[] = [];

		const ask = async (query: Query) => {
			for (let attempt = 0; ; attempt++) {
				await pacer.wait(query.probe, ctx.signal);
				const answer = await timedGet(
					ctx.base,
					query.path,
					history.accounts[query.probe]!,
					ctx.signal
				);
				if (answer.status !== 429 || attempt >= 2) return answer;
				rateLimited++;
				const wait = answer.retryAfter ?? 5;
				rateLimitWaitS += wait;
				log(`search: 429 for ${history.accounts[query.probe]!.username}, waiting ${wait} s`);
				await sleep(wait * 1000, undefined, { signal: ctx.signal });
			}
		};

		log(`search: ${WARMUP} warm-up queries, then ${count} measured`);
		for (const query of warmup) await ask(query);

		const overall = new Histogram();
		const byKind = new Map<Kind, { times: Histogram; zero: number; full: number; items: number[] }>(
			KINDS.map((kind) => [kind, { times: new Histogram(), zero: 0, full: 0, items: [] }])
		);
		const timed: { kind: Kind; q: string; ms: number; items: number; more: boolean }[] = [];
		const meter = await startMeter(ctx);
		const started = Date.now();
		for (const query of queries) {
			ctx.signal.throwIfAborted();
			const answer = await ask(query);
			const found = answer.status === 200 ? answerOf(answer.body) : null;
			if (!found) {
				errors.push({ status: answer.status, q: query.q, body: answer.text.slice(0, 200) });
				continue;
			}
			const kind = byKind.get(query.kind)!;
			kind.times.add(answer.ms);
			overall.add(answer.ms);
			kind.items.push(found.items);
			if (found.items === 0) kind.zero++;
			if (found.more) kind.full++;
			timed.push({ kind: query.kind, q: query.q, ms: answer.ms, ...found });
		}
		const seconds = (Date.now() - started) / 1000;
		const usage = await meter();
		for (const error of errors.slice(0, 3)) {
			log(`search: ${error.status} for ${JSON.stringify(error.q)}: ${error.body}`);
		}
		timed.sort((a, b) => b.ms - a.ms);
		const scopes = history.probes.map((p) => p.scopeMessages).sort((a, b) => a - b);
		return {
			scenario: 'search',
			queries: count,
			...latency(overall),
			targetP99Ms: TARGET_P99_MS,
			byKind: Object.fromEntries(
				[...byKind].map(([kind, k]) => [
					kind,
					{
						...latency(k.times),
						zeroResults: k.zero,
						morePages: k.full,
						itemsMedian: k.items.sort((a, b) => a - b)[k.items.length >> 1] ?? null
					}
				])
			),
			errors: errors.filter((e) => e.status !== 0).length,
			errorStatuses: [...new Set(errors.map((e) => e.status))].filter((status) => status !== 0),
			// No answer at all: the connection closed (a restart of the server's runtime).
			noAnswer: errors.filter((e) => e.status === 0).length,
			rateLimited,
			rateLimitWaitS,
			queriesPerSec: round(count / seconds),
			slowest: timed
				.slice(0, 8)
				.map((t) => ({ kind: t.kind, q: t.q, ms: round(t.ms), items: t.items })),
			searchers: history.probes.length,
			roomsPerSearcher: history.plan.probeRooms,
			scopeMessages: { min: scopes[0], median: scopes[scopes.length >> 1], max: scopes.at(-1) },
			historyMessages: history.counts.messages,
			indexBytes: history.sizes.indexBytes,
			indexTables: history.sizes.indexTables,
			messagesBytes: history.sizes.messagesBytes,
			fileBytes: history.sizes.fileBytes,
			...usage,
			serverCpuMsPerQuery:
				usage.serverCpuMs === undefined ? undefined : round(usage.serverCpuMs / count)
		};
	}
};
