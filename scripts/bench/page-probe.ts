// Page loads while a scenario runs: a member opens a room's page (the server's render, HTML, as a
// browser's navigation asks for it) over and over, for a room of each size class, and the home page.
// Figures per page, from the request to the last byte; anything but 200 is an error.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../lib/parley-client.ts';
import { Histogram } from './stats.ts';
import { latency, timedGet } from './timed-get.ts';

/** The pause between one load of a page and the next: a few page loads a second site-wide. */
const PROBE_INTERVAL_MS = 200;

export type ProbedPage = { label: string; path: string; account: Account };

export class PageProbe {
	#pages: ProbedPage[];
	#times = new Map<string, Histogram>();
	#errors = new Map<string, number>();
	#stopped = false;
	#running: Promise<void> | null = null;

	constructor(pages: ProbedPage[]) {
		this.#pages = pages;
		for (const page of pages) this.#times.set(page.label, new Histogram());
	}

	/** Each page loaded in its own loop, one load at a time, until `stop()`. */
	start(base: string, signal: AbortSignal): void {
		this.#running = Promise.all(
			this.#pages.map(async (page) => {
				while (!this.#stopped && !signal.aborted) {
					const answer = await timedGet(base, page.path, page.account, signal, 'text/html');
					// Sent elsewhere (to log in) is not the page.
					if (answer.status === 200 && !answer.redirected)
						this.#times.get(page.label)!.add(answer.ms);
					else {
						const key = `${page.label} ${answer.redirected ? 'redirected' : answer.status}`;
						this.#errors.set(key, (this.#errors.get(key) ?? 0) + 1);
					}
					await sleep(PROBE_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
				}
			})
		).then(() => undefined);
	}

	async stop(): Promise<{
		pages: Record<string, ReturnType<typeof latency>>;
		pageErrors?: Record<string, number>;
	}> {
		this.#stopped = true;
		await this.#running;
		return {
			pages: Object.fromEntries([...this.#times].map(([label, h]) => [label, latency(h)])),
			pageErrors: this.#errors.size ? Object.fromEntries(this.#errors) : undefined
		};
	}
}
