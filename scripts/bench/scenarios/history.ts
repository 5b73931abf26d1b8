// history: a page of 50 messages from `GET /api/rooms/<id>/messages?before=<seq>`, as the room's
// timeline asks when one scrolls up, on the generated history (history-gen.ts). Random rooms of the
// searchers (each in 50 rooms, from a few dozen messages to tens of thousands) at random places,
// one request at a time; one page in ten is the newest (no `before`), as opening a room asks.
// The first page of each room is a warm-up, reported apart: it wakes the room's object, which
// the page asks for messages D1 may not have yet.
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { startMeter } from '../meter.ts';
import { Histogram, round } from '../stats.ts';
import { latency, timedGet } from '../timed-get.ts';
import { Random } from '../vocabulary.ts';

/** The issue's target for a page's p99. */
const TARGET_P99_MS = 20;
const PAGE = 50;

type Page = { messages?: unknown[]; hasMore?: unknown };

export const history: Scenario = {
	defaults: { clients: 1, senders: 1, rate: 0, duration: 0, count: 300 },
	accounts: () => 1,
	history: true,
	async run(ctx: Context, s: Settings): Promise<Result> {
		const data = ctx.history;
		if (!data) throw new Error('history needs the generated history (not with --url)');
		const count = s.count ?? 300;
		const random = new Random('history-pages');
		const errors: { status: number; path: string; body: string }[] = [];
		let short = 0;

		const fetchPage = async (probe: number, path: string, expected: number) => {
			const answer = await timedGet(ctx.base, path, data.accounts[probe]!, ctx.signal);
			const page = answer.status === 200 ? (answer.body as Page | null) : null;
			if (!page || !Array.isArray(page.messages)) {
				errors.push({ status: answer.status, path, body: answer.text.slice(0, 200) });
				return null;
			}
			// System messages and tombstones are rows too: a page has all 50 unless the room is short.
			if (page.messages.length < expected) short++;
			return answer.ms;
		};

		// One page per room of every searcher first: the rooms' objects wake up here.
		const cold = new Histogram();
		const seen = new Set<string>();
		const rooms = data.probes
			.flatMap((probe, index) => probe.rooms.map((room) => ({ index, room })))
			.filter(({ room }) => !seen.has(room.id) && seen.add(room.id));
		log(`history: ${rooms.length} warm-up pages (one per room), then ${count} measured`);
		for (const { index, room } of rooms) {
			const ms = await fetchPage(
				index,
				`/api/rooms/${room.id}/messages`,
				Math.min(PAGE, room.lastSeq)
			);
			if (ms !== null) cold.add(ms);
		}
		const coldErrors = errors.length;

		const all = new Histogram();
		const newest = new Histogram();
		const older = new Histogram();
		const meter = await startMeter(ctx);
		const started = Date.now();
		for (let i = 0; i < count; i++) {
			ctx.signal.throwIfAborted();
			const probe = i % data.probes.length;
			const room = random.pick(data.probes[probe]!.rooms);
			const top = random.chance(0.1) || room.lastSeq <= 1;
			const before = top ? room.lastSeq + 1 : 2 + random.int(room.lastSeq);
			const path = `/api/rooms/${room.id}/messages${top ? '' : `?before=${before}`}`;
			const ms = await fetchPage(probe, path, Math.min(PAGE, before - 1));
			if (ms === null) continue;
			all.add(ms);
			(top ? newest : older).add(ms);
		}
		const seconds = (Date.now() - started) / 1000;
		const usage = await meter();
		for (const error of errors.slice(0, 3)) {
			log(`history: ${error.status} for ${error.path}: ${error.body}`);
		}
		const sizes = data.probes.flatMap((p) => p.rooms.map((r) => r.lastSeq)).sort((a, b) => a - b);
		return {
			scenario: 'history',
			pages: count,
			pageSize: PAGE,
			...latency(all),
			targetP99Ms: TARGET_P99_MS,
			newest: latency(newest),
			before: latency(older),
			firstPagePerRoom: latency(cold),
			errors: errors.filter((e) => e.status !== 0).length,
			warmupErrors: coldErrors,
			errorStatuses: [...new Set(errors.map((e) => e.status))].filter((status) => status !== 0),
			// No answer at all: the connection closed (a restart of the server's runtime).
			noAnswer: errors.filter((e) => e.status === 0).length,
			shortPages: short,
			pagesPerSec: round(count / seconds),
			rooms: rooms.length,
			roomMessages: { min: sizes[0], median: sizes[sizes.length >> 1], max: sizes.at(-1) },
			historyMessages: data.counts.messages,
			...usage,
			serverCpuMsPerPage:
				usage.serverCpuMs === undefined ? undefined : round(usage.serverCpuMs / count)
		};
	}
};
