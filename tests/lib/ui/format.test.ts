import { describe, expect, it } from 'vitest';
import { clockTime, shortTime } from '$lib/ui/format';

// 09:05 and 21:05 UTC on one day; the tests run in UTC.
const morning = Date.UTC(2026, 11, 6, 9, 5);
const evening = Date.UTC(2026, 11, 6, 21, 5);

describe('clock times', () => {
	it('have no leading zero on a 12-hour clock', () => {
		expect(clockTime(morning, 'en-US')).toBe('9:05 AM');
		expect(clockTime(evening, 'en-US')).toBe('9:05 PM');
	});

	it('are written as a 24-hour locale writes them', () => {
		expect(clockTime(morning, 'en-GB')).toBe('09:05');
		expect(clockTime(evening, 'de-DE')).toBe('21:05');
	});

	it('are what the conversation list shows for today', () => {
		expect(shortTime(morning, evening, 'en-US')).toBe('9:05 AM');
		expect(shortTime(morning, evening + 86_400_000, 'en-US')).toBe('Yesterday');
	});
});
