// room-open-cached: how soon a room already visited shows its newest message when opened again,
// with the network and without. A room is given a history of a couple of hundred messages; a member
// opens it once in Chromium (the service worker installs and takes the page, the page keeps the
// room in its local cache), then opens it several times with the network on, and several times with
// the browser offline, where the service worker answers the navigation from its page cache and the
// page fills itself from its own. Each figure is the page's `performance.now()` (so, from the start
// of the navigation) in the first animation frame after the newest message's element is in the
// timeline: a MutationObserver installed before any of the page's own scripts watches for it.
import type { Browser, Page } from '@playwright/test';
import type { Account } from '../../lib/parley-client.ts';
import { signedInBrowser } from '../browser.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { fillRoom } from '../room-fill.ts';
import { Histogram, round } from '../stats.ts';

const MESSAGES = 200;
/** Opens measured with the network on, then as many with it off. */
const OPENS = 5;
const WAIT_MS = 15_000;
/** The target for opening a room already visited, network or none. */
const TARGET_MS = 300;

/** Run in the page before its scripts: notes when the newest message is first in a frame. */
function watchFor(seq: number): string {
	return `(() => {
		const selector = 'li[data-seq="${seq}"]';
		const seen = () => {
			if (window.__lastShown || !document.querySelector(selector)) return false;
			const entry = (window.__lastShown = { found: performance.now() });
			requestAnimationFrame(() => (entry.frame = performance.now()));
			return true;
		};
		const observer = new MutationObserver(() => {
			if (seen()) observer.disconnect();
		});
		observer.observe(document, { childList: true, subtree: true });
	})()`;
}

/** The page's note, once its frame is in. A function, not text: the page's CSP refuses eval. */
function shownAt(): number | null {
	const entry = (globalThis as unknown as { __lastShown?: { frame?: number } }).__lastShown;
	return entry?.frame ?? null;
}

/** Waits (bounded) for a service worker to control the page; false if none does. */
const CONTROLLED = `navigator.serviceWorker
	? new Promise((resolve) => {
			const until = Date.now() + ${WAIT_MS};
			const check = () =>
				navigator.serviceWorker.controller
					? resolve(true)
					: Date.now() > until
						? resolve(false)
						: setTimeout(check, 50);
			check();
		})
	: false`;

/** The state of the page's room socket, as its timeline says. */
const CONNECTION = `document.querySelector('section[data-connection]')?.dataset.connection ?? null`;

/** One navigation to the room: ms from its start to the newest message on screen. */
async function open(page: Page, url: string): Promise<number> {
	await page.goto(url, { waitUntil: 'commit', timeout: WAIT_MS });
	const handle = await page.waitForFunction(shownAt, undefined, { timeout: WAIT_MS, polling: 20 });
	return (await handle.jsonValue()) as number;
}

type Series = { times: Histogram; failed: number; firstError: string | null };

async function opens(page: Page, url: string, count: number): Promise<Series> {
	const series: Series = { times: new Histogram(), failed: 0, firstError: null };
	for (let i = 0; i < count; i++) {
		try {
			series.times.add(await open(page, url));
		} catch (error) {
			series.failed++;
			series.firstError ??= error instanceof Error ? error.message.split('\n')[0]! : String(error);
		}
	}
	return series;
}

function figures(prefix: string, series: Series): Result {
	return {
		[`${prefix}P50Ms`]: round(series.times.quantile(0.5), 0),
		[`${prefix}MaxMs`]: series.times.count ? round(series.times.max, 0) : null,
		[`${prefix}Failed`]: series.failed
	};
}

export const roomOpenCached: Scenario = {
	defaults: { clients: 11, senders: 10, rate: 0, duration: 0 },
	// The member who opens the room, and those who wrote its history.
	accounts: (s) => Math.max(2, s.clients),
	async run(ctx: Context, s: Settings): Promise<Result> {
		const roomId = ctx.rooms['room-open-cached'];
		if (!roomId) throw new Error('no room seeded for room-open-cached');
		const [reader, ...writers] = ctx.accounts.slice(0, Math.max(2, s.clients)) as [
			Account,
			...Account[]
		];
		log(`room-open-cached: ${MESSAGES} messages from ${writers.length} members`);
		const newest = await fillRoom(ctx, writers, roomId, MESSAGES);
		const url = `${ctx.base}/rooms/${roomId}`;

		let browser: Browser | null = null;
		try {
			const opened = await signedInBrowser(ctx.base, reader);
			browser = opened.browser;
			const { context } = opened;
			await context.addInitScript(watchFor(newest));
			const page = await context.newPage();

			log('room-open-cached: first visit (the service worker installs)');
			const firstOpenMs = await open(page, url);
			const serviceWorker = (await page.evaluate(CONTROLLED)) as boolean;
			if (!serviceWorker) log('room-open-cached: no service worker took the page');

			log(`room-open-cached: ${OPENS} opens with the network, ${OPENS} without`);
			const online = await opens(page, url, OPENS);
			await context.setOffline(true);
			const offline = await opens(page, url, OPENS);
			// Proof that the last offline open had no network: its room socket could not open.
			const offlineConnection = (await page.evaluate(CONNECTION)) as string | null;
			await context.setOffline(false);
			for (const [what, series] of [
				['online', online],
				['offline', offline]
			] as const) {
				if (series.firstError)
					log(`room-open-cached: an open ${what} failed: ${series.firstError}`);
			}
			return {
				scenario: 'room-open-cached',
				messages: MESSAGES,
				opens: OPENS,
				serviceWorker,
				firstOpenMs: round(firstOpenMs, 0),
				...figures('online', online),
				...figures('offline', offline),
				offlineConnection,
				targetMs: TARGET_MS
			};
		} finally {
			await browser?.close();
		}
	}
};
