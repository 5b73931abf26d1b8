import { describe, expect, it } from 'vitest';
import { buildTimeline, dayKey, dayLabel } from '$lib/timeline';

const at = (day: number, hour: number, minute = 0) =>
	new Date(2026, 10, day, hour, minute).getTime();
let seq = 0;
const msg = (senderId: string | null, createdAt: number, kind: 'text' | 'system' = 'text') => ({
	seq: ++seq,
	senderId,
	createdAt,
	kind
});

function shape(items: ReturnType<typeof buildTimeline>) {
	return items.map((item) =>
		item.type === 'group' ? `${item.senderId ?? 'system'}×${item.messages.length}` : item.type
	);
}

describe('buildTimeline', () => {
	it('groups consecutive messages by one author within five minutes', () => {
		const items = buildTimeline([
			msg('alice', at(20, 10, 0)),
			msg('alice', at(20, 10, 3)),
			msg('alice', at(20, 10, 7)),
			msg('bob', at(20, 10, 8)),
			msg('alice', at(20, 10, 9)),
			msg('alice', at(20, 10, 20))
		]);
		expect(shape(items)).toEqual(['day', 'alice×3', 'bob×1', 'alice×1', 'alice×1']);
	});

	it('puts a separator at the start of every local day and never groups across it', () => {
		const items = buildTimeline([
			msg('alice', at(20, 23, 58)),
			msg('alice', at(21, 0, 1)),
			msg('bob', at(23, 9))
		]);
		expect(shape(items)).toEqual(['day', 'alice×1', 'day', 'alice×1', 'day', 'bob×1']);
		const days = items.filter((item) => item.type === 'day').map((item) => item.key);
		expect(days).toEqual(['day-2026-11-20', 'day-2026-11-21', 'day-2026-11-23']);
	});

	it('keeps system messages in groups of their own', () => {
		const items = buildTimeline([
			msg('alice', at(20, 10)),
			msg(null, at(20, 10, 1), 'system'),
			msg(null, at(20, 10, 1), 'system'),
			msg('alice', at(20, 10, 2))
		]);
		expect(shape(items)).toEqual(['day', 'alice×1', 'system×1', 'system×1', 'alice×1']);
	});

	it('never joins a system line to the run of the person it names as its actor', () => {
		const items = buildTimeline([
			msg('alice', at(20, 10)),
			msg('alice', at(20, 10, 1), 'system'),
			msg('alice', at(20, 10, 2))
		]);
		const system = items.flatMap((item) => (item.type === 'group' ? [item.system] : []));
		expect(system).toEqual([false, true, false]);
		expect(shape(items)).toEqual(['day', 'alice×1', 'alice×1', 'alice×1']);
	});

	it('places the new-messages divider before the first unread message and breaks the group there', () => {
		seq = 0;
		const messages = [msg('bob', at(20, 10)), msg('bob', at(20, 10, 1)), msg('bob', at(20, 10, 2))];
		expect(shape(buildTimeline(messages, { lastReadSeq: 1 }))).toEqual([
			'day',
			'bob×1',
			'new',
			'bob×2'
		]);
		expect(shape(buildTimeline(messages, { lastReadSeq: 3 }))).toEqual(['day', 'bob×3']);
	});

	it('gives every item a distinct key', () => {
		const items = buildTimeline([msg('a', at(20, 1)), msg('b', at(20, 1)), msg('a', at(21, 1))], {
			lastReadSeq: 0
		});
		expect(new Set(items.map((item) => item.key)).size).toBe(items.length);
	});
});

describe('dayLabel', () => {
	const now = at(21, 15);
	it('names today, yesterday and the days of this week', () => {
		expect(dayLabel(at(21, 1), now)).toBe('Today');
		expect(dayLabel(at(20, 23), now)).toBe('Yesterday');
		expect(dayLabel(at(18, 12), now, 'en-US')).toBe('Wednesday');
	});
	it('gives older days a date, with the year only when it is not this year', () => {
		expect(dayLabel(at(2, 12), now, 'en-US')).toBe('Mon, November 2');
		expect(dayLabel(new Date(2025, 0, 5).getTime(), now, 'en-US')).toBe('Sun, January 5, 2025');
	});
	it('keys days by the local calendar date', () => {
		expect(dayKey(at(3, 0, 0))).toBe('2026-11-03');
	});
});

describe('buildTimeline without days', () => {
	it('leaves out day separators and keeps a run across midnight together', () => {
		const items = buildTimeline(
			[msg('alice', at(20, 23, 58)), msg('alice', at(21, 0, 1)), msg('bob', at(21, 0, 2))],
			{ days: false }
		);
		expect(shape(items)).toEqual(['alice×2', 'bob×1']);
	});
});
