// What the search box and the search page share: the addresses they ask and link to, and the
// filters a chip adds to (or takes from) the text as typed. The query language itself is
// $lib/search-query; the results' shapes are the server's (types only: nothing of it runs here).
import type { MessageHit, SearchResults } from '$lib/server/search';

export type { MessageHit, SearchResults };
export type PersonHit = SearchResults['people'][number];
export type RoomHit = SearchResults['rooms'][number];
export type SearchSort = 'recent' | 'best';

export type SearchOptions = {
	q: string;
	/** Only this room. */
	room?: string | null;
	/** Also public rooms not joined. */
	publicRooms?: boolean;
	sort?: SearchSort;
	cursor?: string | null;
	/** Still typing: the last word matches longer words too. */
	typing?: boolean;
};

/** The query string both `/search` and `/api/search` read; defaults are left out. */
export function searchQueryString(options: SearchOptions): string {
	const params = new URLSearchParams({ q: options.q });
	if (options.room) params.set('room', options.room);
	if (options.publicRooms) params.set('public', '1');
	if (options.sort === 'best') params.set('sort', 'best');
	if (options.cursor) params.set('cursor', options.cursor);
	if (options.typing) params.set('typing', '1');
	return params.toString();
}

/** The full results page for a search. */
export function searchPageHref(options: Omit<SearchOptions, 'typing'>): string {
	return `/search?${searchQueryString(options)}`;
}

/** Reads the page's address back: what `searchPageHref` wrote. */
export function readSearchOptions(
	params: URLSearchParams
): Required<Omit<SearchOptions, 'typing'>> {
	return {
		q: params.get('q') ?? '',
		room: params.get('room') || null,
		publicRooms: params.get('public') === '1',
		sort: params.get('sort') === 'best' ? 'best' : 'recent',
		cursor: params.get('cursor') || null
	};
}

/**
 * Where a found message opens: in its room, scrolled to it. A public room not joined yet opens on
 * its page, where the person can join it (it shows no messages before).
 */
export function messageHref(hit: Pick<MessageHit, 'roomId' | 'seq' | 'joined'>): string {
	return hit.joined ? `/rooms/${hit.roomId}?m=${hit.seq}` : `/rooms/${hit.roomId}`;
}

/** "1 message", "12 messages": what a count of things is called. */
export function counted(count: number, one: string, many: string): string {
	return `${count} ${count === 1 ? one : many}`;
}

/** What a refused search says to the person, from the answer's status and body. */
export async function refusalMessage(response: Response): Promise<string> {
	if (response.status === 429) {
		const wait = Math.max(1, Math.ceil(Number(response.headers.get('Retry-After')) || 1));
		return `Searching too fast, try again in ${wait} s.`;
	}
	const body = (await response.json().catch(() => null)) as {
		error?: { message?: unknown };
		message?: unknown;
	} | null;
	const message = body?.error?.message ?? body?.message;
	if (typeof message === 'string' && message) return message;
	return response.status === 404
		? 'That conversation cannot be searched.'
		: 'Search is not working right now. Try again.';
}

// ---- Filters in the text ----

/** A filter as typed, e.g. `has:file` or `from:@ana`: compared without case, `@` or `#`. */
function sameFilter(token: string, filter: string): boolean {
	const norm = (text: string) => text.toLowerCase().replace(/^(from|in):[@#]?/, '$1:');
	return norm(token) === norm(filter);
}

/** The text's parts, where they are: words and "quoted phrases" (as the query language splits). */
function tokens(text: string): { text: string; start: number; end: number }[] {
	return [...text.matchAll(/"[^"]*"?|\S+/g)].map((match) => ({
		text: match[0],
		start: match.index,
		end: match.index + match[0].length
	}));
}

/** The text without some of its parts, each with the space before it; the rest as it was. */
function without(text: string, drop: (token: string) => boolean): string {
	let kept = '';
	let from = 0;
	for (const token of tokens(text)) {
		if (!drop(token.text)) continue;
		kept += text.slice(from, token.start).replace(/\s+$/, '');
		from = token.end;
	}
	return (kept + text.slice(from)).trim();
}

/** Whether the text carries this filter (outside quotes). */
export function hasFilter(text: string, filter: string): boolean {
	return tokens(text).some((token) => sameFilter(token.text, filter));
}

/**
 * The text with the filter added at its end, or taken out wherever it is. The rest of the text is
 * kept as typed (its quotes, punctuation and case), not rewritten.
 */
export function toggleFilter(text: string, filter: string): string {
	if (hasFilter(text, filter)) return without(text, (token) => sameFilter(token, filter));
	return text.trim() ? `${text.trimEnd()} ${filter}` : filter;
}

/** A day filter (`before:`/`after:`) taken out, whatever day it names. */
export function withoutDay(text: string, name: 'before' | 'after'): string {
	return without(text, (token) => token.toLowerCase().startsWith(`${name}:`));
}

/**
 * What a chip of the search page does (its `toggle`): a filter in the text added or taken out
 * (`has:file`, `from:@ana`, `in:#design`), a day filter taken out (`before`, `after`), or the
 * search no longer kept to one room (`room`). The page does it at once; without JavaScript the
 * server does, from the chip's submitted value. Null: not a chip's.
 */
export function applyToggle<T extends { q: string; room?: string | null }>(
	options: T,
	toggle: string
): T | null {
	if (toggle === 'room') return { ...options, room: null };
	if (toggle === 'before' || toggle === 'after') {
		return { ...options, q: withoutDay(options.q, toggle) };
	}
	if (/^(has|from|in):\S+$/i.test(toggle))
		return { ...options, q: toggleFilter(options.q, toggle) };
	return null;
}

// ---- Answers in order ----

/**
 * Requests of which only the newest counts, as the search box asks while one types: starting one
 * aborts the one before, and an answer to an older one, should it come anyway, is dropped.
 */
export class LatestRequest {
	#asked = 0;
	#controller: AbortController | null = null;

	/** Runs `work`; answers its value while it is still the newest, else `stale`. */
	async run<T>(
		work: (signal: AbortSignal) => Promise<T>
	): Promise<{ stale: false; value: T } | { stale: true }> {
		const id = this.cancel();
		const controller = new AbortController();
		this.#controller = controller;
		try {
			const value = await work(controller.signal);
			return id === this.#asked ? { stale: false, value } : { stale: true };
		} catch (error) {
			if (id !== this.#asked) return { stale: true };
			throw error;
		} finally {
			if (this.#controller === controller) this.#controller = null;
		}
	}

	/** Drops the request under way, if any; answers the number of the next one. */
	cancel(): number {
		this.#controller?.abort();
		this.#controller = null;
		return ++this.#asked;
	}
}
