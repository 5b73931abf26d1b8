import { describe, expect, it } from 'vitest';
import {
	applyToggle,
	hasFilter,
	LatestRequest,
	messageHref,
	readSearchOptions,
	refusalMessage,
	searchPageHref,
	searchQueryString,
	toggleFilter,
	withoutDay
} from '$lib/ui/search';

describe('search addresses', () => {
	it('writes only what differs from the defaults, and reads it back', () => {
		expect(searchQueryString({ q: 'plan', sort: 'recent', publicRooms: false })).toBe('q=plan');
		const href = searchPageHref({
			q: 'a "b c"',
			room: 'r1',
			publicRooms: true,
			sort: 'best',
			cursor: 'r.1.2'
		});
		expect(href).toBe('/search?q=a+%22b+c%22&room=r1&public=1&sort=best&cursor=r.1.2');
		expect(readSearchOptions(new URL(href, 'http://x').searchParams)).toEqual({
			q: 'a "b c"',
			room: 'r1',
			publicRooms: true,
			sort: 'best',
			cursor: 'r.1.2'
		});
		expect(readSearchOptions(new URLSearchParams('sort=nonsense&room='))).toEqual({
			q: '',
			room: null,
			publicRooms: false,
			sort: 'recent',
			cursor: null
		});
		expect(searchQueryString({ q: 'pla', typing: true })).toBe('q=pla&typing=1');
	});

	it('opens a message in its room, or a room not joined on its own page', () => {
		expect(messageHref({ roomId: 'r1', seq: 42, joined: true })).toBe('/rooms/r1?m=42');
		expect(messageHref({ roomId: 'r1', seq: 42, joined: false })).toBe('/rooms/r1');
	});
});

describe('filters in the text', () => {
	it('adds a filter at the end and takes it out, keeping the rest as typed', () => {
		expect(toggleFilter('Where’s the "Q3 plan"?', 'has:file')).toBe(
			'Where’s the "Q3 plan"? has:file'
		);
		expect(toggleFilter('Where’s has:file the "Q3 plan"?', 'has:file')).toBe(
			'Where’s the "Q3 plan"?'
		);
		expect(toggleFilter('', 'has:link')).toBe('has:link');
	});

	it('knows a filter however it was typed, but not inside quotes', () => {
		expect(hasFilter('plan FROM:Ana', 'from:@ana')).toBe(true);
		expect(hasFilter('plan in:design', 'in:#design')).toBe(true);
		expect(toggleFilter('plan from:ana', 'from:@ana')).toBe('plan');
		expect(hasFilter('"has:file" plan', 'has:file')).toBe(false);
		expect(hasFilter('plan has:files', 'has:file')).toBe(false);
	});

	it('takes out a day filter whatever day it names', () => {
		expect(withoutDay('plan after:2026-11-01 before:2026-12-01', 'after')).toBe(
			'plan before:2026-12-01'
		);
	});
});

describe('refusals', () => {
	it('says how long to wait when searching too fast, else the server’s words', async () => {
		const tooFast = new Response('{}', { status: 429, headers: { 'Retry-After': '7' } });
		expect(await refusalMessage(tooFast)).toBe('Searching too fast, try again in 7 s.');
		const broad = Response.json(
			{ error: { code: 'too_broad', message: 'Add a more specific word.' } },
			{ status: 400 }
		);
		expect(await refusalMessage(broad)).toBe('Add a more specific word.');
		expect(await refusalMessage(new Response('oops', { status: 500 }))).toBe(
			'Search is not working right now. Try again.'
		);
	});
});

describe('latest request', () => {
	it('aborts the request before and drops its answer, keeping the newest', async () => {
		const requests = new LatestRequest();
		let finishFirst: (value: string) => void = () => {};
		let firstSignal: AbortSignal | undefined;
		const first = requests.run(
			(signal) =>
				new Promise<string>((resolve) => {
					firstSignal = signal;
					finishFirst = resolve;
				})
		);
		const second = requests.run(async () => 'second');
		expect(firstSignal?.aborted).toBe(true);
		expect(await second).toEqual({ stale: false, value: 'second' });
		// The older answer comes after all (a server that ignored the abort): it is dropped.
		finishFirst('first');
		expect(await first).toEqual({ stale: true });
	});

	it('drops an aborted request’s failure, and reports the newest one’s', async () => {
		const requests = new LatestRequest();
		const aborted = requests.run(
			(signal) =>
				new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
		);
		requests.cancel();
		expect(await aborted).toEqual({ stale: true });
		await expect(requests.run(() => Promise.reject(new Error('offline')))).rejects.toThrow(
			'offline'
		);
	});
});

describe('chips', () => {
	it('toggle a filter, take out a day, or leave the room', () => {
		const options = { q: 'plan after:2026-11-01', room: 'r1', sort: 'best' as const };
		expect(applyToggle(options, 'has:file')).toEqual({ ...options, q: `${options.q} has:file` });
		expect(applyToggle(options, 'after')).toEqual({ ...options, q: 'plan' });
		expect(applyToggle(options, 'room')).toEqual({ ...options, room: null });
		expect(applyToggle(options, 'sort:best')).toBeNull();
	});
});
