// One authenticated GET, timed from the request to the last byte of its body, as a page's fetch
// sees it (status 0: no answer at all); and the figures of a series of them.
import { performance } from 'node:perf_hooks';
import type { Account } from '../lib/parley-client.ts';
import { Histogram, round } from './stats.ts';

export type Timed = {
	status: number;
	ms: number;
	body: unknown;
	text: string;
	retryAfter: number | null;
	/** The answer came after a redirect (a page that sends a signed-out visitor to log in). */
	redirected: boolean;
};

export async function timedGet(
	base: string,
	path: string,
	account: Account,
	signal: AbortSignal,
	accept = 'application/json'
): Promise<Timed> {
	const started = performance.now();
	let response: Response;
	let text: string;
	try {
		response = await fetch(new URL(path, base), {
			headers: { cookie: account.cookie, accept },
			signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)])
		});
		text = await response.text();
	} catch (error) {
		signal.throwIfAborted();
		// No answer at all (status 0): undici's "fetch failed" says nothing, its cause does.
		const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
		const message = error instanceof Error ? error.message : String(error);
		const text = `${message}${cause ? ` (${cause})` : ''}`;
		return {
			status: 0,
			ms: performance.now() - started,
			body: null,
			text,
			retryAfter: null,
			redirected: false
		};
	}
	const ms = performance.now() - started;
	let body: unknown = null;
	try {
		body = JSON.parse(text);
	} catch {
		// Not JSON: an error page; `text` says what it was.
	}
	const retry = response.headers.get('retry-after');
	return {
		status: response.status,
		ms,
		body,
		text,
		retryAfter: retry === null ? null : Number(retry),
		redirected: response.redirected
	};
}

/** p50, p95, p99 and max of a series, in ms. */
export function latency(h: Histogram) {
	return {
		n: h.count,
		p50: round(h.quantile(0.5)),
		p95: round(h.quantile(0.95)),
		p99: round(h.quantile(0.99)),
		max: h.count ? round(h.max) : null
	};
}
