// long-session: one Chromium tab left open in a busy room. Members write 20 messages a second for
// the duration (ten minutes by default), and now and then edit one of their own or react to
// anyone's, older ones too. The reader's tab stays at the bottom, as a tab left open does. At a
// tenth, half and all of the duration the page's JavaScript heap (after a garbage collection) and
// its DOM nodes are read through the DevTools protocol; throughout, the page's long tasks and long
// animation frames (with the script they ran, where Chromium knows it) are noted; at the end, a
// scripted scroll up through the history and back down counts the frames and checks the order of
// what came back.
import type { CDPSession, Page } from '@playwright/test';
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';
import { framesOf, openRoomSocket, type Account } from '../../lib/parley-client.ts';
import { signedInBrowser } from '../browser.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { Histogram, round } from '../stats.ts';

/** One edit and one reaction for every this many messages. */
const CHANGE_EVERY = 10;
/** Seconds of scripted scrolling up, then at most as long back down. */
const SCROLL_S = 6;
/** The target: no long task over this attributable to the timeline. */
const LONG_TASK_MS = 50;

/** A member's room socket: sends, edits and reactions, with the seqs of its acknowledged messages. */
class Writer {
	readonly own: number[] = [];
	/** The room's refusals, by code. */
	readonly refused = new Map<string, number>();
	#sent = 0;
	#ws: WebSocket;
	#name: string;

	private constructor(ws: WebSocket, name: string) {
		this.#ws = ws;
		this.#name = name;
	}

	static async open(ctx: Context, account: Account, roomId: string): Promise<Writer> {
		let writer: Writer | null = null;
		let welcomed: () => void = () => {};
		const welcome = new Promise<void>((resolve) => (welcomed = resolve));
		const ws = await openRoomSocket(ctx.base, account, roomId, 15_000, (data) => {
			for (const frame of framesOf(data)) {
				if (frame.type === 'welcome') welcomed();
				if (frame.type === 'ack') writer?.own.push(Number(frame.seq));
				if (frame.type === 'error' && writer) {
					const code = String(frame.code);
					writer.refused.set(code, (writer.refused.get(code) ?? 0) + 1);
				}
			}
		});
		writer = new Writer(ws, account.username);
		ws.send(JSON.stringify({ type: 'hello', lastSeq: 0 }));
		await welcome;
		return writer;
	}

	send(body: string): void {
		const clientId = `${this.#name}-${this.#sent++}-${Date.now()}`;
		this.#ws.send(JSON.stringify({ type: 'send', clientId, body }));
	}

	/** Edits one of its own messages, any age: most of them have left the reader's window. */
	editOne(): void {
		const seq = this.own[Math.floor(Math.random() * this.own.length)];
		if (seq !== undefined)
			this.#ws.send(JSON.stringify({ type: 'edit', seq, body: `edited ${seq}` }));
	}

	react(seq: number): void {
		this.#ws.send(JSON.stringify({ type: 'react', seq, emoji: '👍', on: true }));
	}

	close(): void {
		this.#ws.close();
	}
}

/** Run in the page before its scripts: keeps the long tasks and long animation frames. */
const WATCH_LONG = `(() => {
	const seen = (window.__long = { tasks: [], frames: [] });
	const keep = (list, entry) => {
		list.push(entry);
		if (list.length > 2000) list.sort((a, b) => b.duration - a.duration).length = 1000;
	};
	try {
		new PerformanceObserver((l) => {
			for (const e of l.getEntries()) {
				const a = e.attribution && e.attribution[0];
				keep(seen.tasks, { start: e.startTime, duration: e.duration,
					where: a ? [a.name, a.containerType, a.containerSrc || a.containerName].filter(Boolean).join(' ') : '' });
			}
		}).observe({ type: 'longtask', buffered: true });
	} catch {}
	try {
		new PerformanceObserver((l) => {
			for (const e of l.getEntries()) {
				const s = [...(e.scripts || [])].sort((a, b) => b.duration - a.duration)[0];
				keep(seen.frames, { start: e.startTime, duration: e.duration,
					blocking: e.blockingDuration,
					where: s ? [s.invokerType, s.invoker, s.sourceFunctionName, (s.sourceURL || '').split('/').pop() + ':' + s.sourceCharPosition].filter(Boolean).join(' ') : '' });
			}
		}).observe({ type: 'long-animation-frame', buffered: true });
	} catch {}
})()`;

type Long = { start: number; duration: number; where: string; blocking?: number };

/** The page's notes of long work. A function, not text: the page's CSP refuses eval. */
function longWork(): { tasks: Long[]; frames: Long[] } {
	return (globalThis as unknown as { __long: { tasks: Long[]; frames: Long[] } }).__long;
}

/** The timeline's message items as the page has them. Text: the bench's types have no DOM. */
const TIMELINE_STATE = `(() => {
	const items = document.querySelectorAll('.timeline li[data-seq]');
	return { items: items.length };
})()`;

type Sample = { atS: number; heapMB: number | null; domNodes: number | null; items: number };

/** The heap after a collection, and the DOM's nodes; `pauses` gets the page time the GC took. */
async function sample(page: Page, cdp: CDPSession, atS: number, pauses: [number, number][]) {
	const from = await page.evaluate(() => performance.now());
	await cdp.send('HeapProfiler.collectGarbage');
	pauses.push([from, await page.evaluate(() => performance.now())]);
	const { metrics } = await cdp.send('Performance.getMetrics');
	const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? null;
	const heap = metric('JSHeapUsedSize');
	const state = (await page.evaluate(TIMELINE_STATE)) as { items: number };
	const result: Sample = {
		atS,
		heapMB: heap === null ? null : round(heap / 2 ** 20, 1),
		domNodes: metric('Nodes'),
		items: state.items
	};
	log(`long-session: at ${atS} s: ${JSON.stringify(result)}`);
	return result;
}

type Scroll = {
	frames: number[];
	itemsBefore: number;
	itemsUp: number;
	firstUp: number | null;
	ordered: boolean;
	itemsBack: number;
};

/** In the page: scrolls the timeline up for `seconds`, then back to the bottom, timing each frame. */
function scrollThrough(seconds: number): string {
	return `(async () => {
		const list = document.querySelector('.timeline');
		const frames = [];
		let last = performance.now();
		const frame = () => new Promise((resolve) => requestAnimationFrame((t) => {
			frames.push(t - last);
			last = t;
			resolve();
		}));
		const seqs = () => [...list.querySelectorAll('li[data-seq]')].map((li) => Number(li.dataset.seq));
		const before = seqs();
		let until = performance.now() + ${seconds * 1000};
		while (performance.now() < until) {
			list.scrollTop = Math.max(0, list.scrollTop - 120);
			await frame();
		}
		const up = seqs();
		until = performance.now() + ${seconds * 1000};
		while (performance.now() < until && list.scrollHeight - list.scrollTop - list.clientHeight > 2) {
			list.scrollTop += 240;
			await frame();
		}
		for (let i = 0; i < 10; i++) await frame();
		return {
			frames: frames.slice(1),
			itemsBefore: before.length,
			itemsUp: up.length,
			firstUp: up[0] ?? null,
			ordered: up.every((seq, i) => i === 0 || seq === up[i - 1] + 1),
			itemsBack: seqs().length
		};
	})()`;
}

export const longSession: Scenario = {
	defaults: { clients: 9, senders: 8, rate: 20, duration: 600 },
	// The reader, and the members who write.
	accounts: (s) => Math.max(2, s.clients),
	async run(ctx: Context, s: Settings): Promise<Result> {
		const roomId = ctx.rooms['long-session'];
		if (!roomId) throw new Error('no room seeded for long-session');
		const [reader, ...others] = ctx.accounts.slice(0, Math.max(2, s.clients)) as [
			Account,
			...Account[]
		];
		const writers = await Promise.all(
			others.slice(0, Math.max(1, s.senders)).map((a) => Writer.open(ctx, a, roomId))
		);
		const opened = await signedInBrowser(ctx.base, reader);
		try {
			await opened.context.addInitScript(WATCH_LONG);
			const page = await opened.context.newPage();
			await page.goto(`${ctx.base}/rooms/${roomId}`);
			await page.waitForSelector('section[data-connection="open"]', { timeout: 15_000 });
			const cdp = await opened.context.newCDPSession(page);
			await cdp.send('Performance.enable');
			const pauses: [number, number][] = [];
			const samples = [await sample(page, cdp, 0, pauses)];
			// Page times: the load before this, the session, then the scroll.
			const sessionFrom = await page.evaluate(() => performance.now());
			const sampleAt = [0.1, 0.5, 1].map((f) => Math.round(s.duration * f));
			log(
				`long-session: ${s.rate} msg/s from ${writers.length} members for ${s.duration} s, ` +
					`an edit and a reaction every ${CHANGE_EVERY} messages`
			);

			const started = performance.now();
			let sent = 0;
			let edits = 0;
			let reactions = 0;
			for (const atS of sampleAt) {
				while (performance.now() - started < atS * 1000) {
					ctx.signal.throwIfAborted();
					const due = Math.floor(((performance.now() - started) / 1000) * s.rate);
					for (; sent < due; sent++) {
						const writer = writers[sent % writers.length]!;
						writer.send(
							`Message ${sent + 1} of a long session: words enough to wrap now and then.`
						);
						if (sent % CHANGE_EVERY === 3) {
							writer.editOne();
							edits++;
						}
						if (sent % CHANGE_EVERY === 7) {
							const acked = writers.flatMap((w) => w.own);
							const seq = acked[Math.floor(Math.random() * acked.length)];
							if (seq !== undefined) {
								writers[(sent + 1) % writers.length]!.react(seq);
								reactions++;
							}
						}
					}
					await sleep(25, undefined, { signal: ctx.signal });
				}
				samples.push(await sample(page, cdp, atS, pauses));
			}
			for (const writer of writers) writer.close();
			await sleep(1000, undefined, { signal: ctx.signal });

			log(`long-session: scrolling up through the history for ${SCROLL_S} s, then back`);
			const scrollFrom = await page.evaluate(() => performance.now());
			const scroll = (await page.evaluate(scrollThrough(SCROLL_S))) as Scroll;
			const frames = new Histogram();
			for (const ms of scroll.frames) frames.add(ms);
			const { tasks, frames: longFrames } = await page.evaluate(longWork);
			// The collections the bench forced are not the page's own work.
			const ours = (l: Long) => !pauses.some(([a, b]) => l.start + l.duration >= a && l.start <= b);
			const phase = (list: Long[], from: number, to: number) => {
				const within = list
					.filter((l) => ours(l) && l.start >= from && l.start < to)
					.sort((a, b) => b.duration - a.duration);
				return { count: within.length, top: within[0] ?? null };
			};
			const summary = (list: Long[], from: number, to: number) => {
				const { count, top } = phase(list, from, to);
				return {
					count,
					longestMs: top ? round(top.duration, 0) : 0,
					...(top?.blocking !== undefined ? { blockingMs: round(top.blocking, 0) } : {}),
					where: top?.where || null
				};
			};
			return {
				scenario: 'long-session',
				rate: s.rate,
				durationS: s.duration,
				sent,
				edits,
				reactions,
				refused: Object.fromEntries(
					[...new Set(writers.flatMap((w) => [...w.refused.keys()]))].map((code) => [
						code,
						writers.reduce((n, w) => n + (w.refused.get(code) ?? 0), 0)
					])
				),
				samples,
				// Long tasks (over 50 ms) and long animation frames, while the page loaded, during
				// the session, and during the scroll.
				loadLongTasks: summary(tasks, 0, sessionFrom),
				sessionLongTasks: summary(tasks, sessionFrom, scrollFrom),
				sessionLongFrames: summary(longFrames, sessionFrom, scrollFrom),
				scrollLongTasks: summary(tasks, scrollFrom, Infinity),
				scrollFrames: frames.count,
				scrollFrameP50Ms: round(frames.quantile(0.5), 1),
				scrollFrameP95Ms: round(frames.quantile(0.95), 1),
				scrollFrameMaxMs: frames.count ? round(frames.max, 0) : null,
				scrollFramesOver50: scroll.frames.filter((ms) => ms > LONG_TASK_MS).length,
				scrollItems: [scroll.itemsBefore, scroll.itemsUp, scroll.itemsBack],
				scrollReachedSeq: scroll.firstUp,
				scrollOrdered: scroll.ordered,
				targetLongTaskMs: LONG_TASK_MS
			};
		} finally {
			for (const writer of writers) writer.close();
			await opened.browser.close();
		}
	}
};
