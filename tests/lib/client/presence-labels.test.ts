import { describe, expect, it } from 'vitest';
import { describePresence, describeTyping, presenceOf } from '$lib/client/presence-labels';

describe('describeTyping', () => {
	it('names one or two people typing, and says "several" beyond that', () => {
		expect(describeTyping([])).toBeNull();
		expect(describeTyping(['Alice'])).toBe('Alice is typing…');
		expect(describeTyping(['Alice', 'Bob'])).toBe('Alice and Bob are typing…');
		expect(describeTyping(['Alice', 'Bob', 'Carol'])).toBe('Several people are typing…');
	});
});

describe('describePresence', () => {
	const now = Date.UTC(2026, 10, 21, 12, 0, 0);

	it('says online and away as they are, and how long ago an offline member was last seen', () => {
		expect(describePresence('online', null, now)).toBe('Online');
		expect(describePresence('away', null, now)).toBe('Away');
		expect(describePresence('offline', null, now)).toBe('Offline');
		expect(describePresence('offline', now - 20_000, now)).toBe('Last seen just now');
		expect(describePresence('offline', now - 5 * 60_000, now)).toBe('Last seen 5 min ago');
		expect(describePresence('offline', now - 60 * 60_000, now)).toBe('Last seen 1 hour ago');
		expect(describePresence('offline', now - 30 * 60 * 60_000, now)).toBe('Last seen yesterday');
		expect(describePresence('offline', now - 10 * 24 * 60 * 60_000, now)).toMatch(/^Last seen \S+/);
	});
});

describe('presenceOf', () => {
	const seen = 1_700_000_000_000;

	it('takes online or away in the room first, whatever the hub says', () => {
		expect(presenceOf({ state: 'online', lastSeenAt: null }, false)).toEqual({
			state: 'online',
			lastSeenAt: null
		});
		expect(presenceOf({ state: 'away', lastSeenAt: null }, true)).toEqual({
			state: 'away',
			lastSeenAt: null
		});
	});

	it('says online when the hub does, though the room last saw them a while ago', () => {
		expect(presenceOf({ state: 'offline', lastSeenAt: seen }, true)).toEqual({
			state: 'online',
			lastSeenAt: null
		});
		expect(presenceOf(undefined, true)).toEqual({ state: 'online', lastSeenAt: null });
	});

	it('is offline with the room’s last-seen time when neither has them online', () => {
		expect(presenceOf({ state: 'offline', lastSeenAt: seen }, false)).toEqual({
			state: 'offline',
			lastSeenAt: seen
		});
		expect(presenceOf(undefined, false)).toEqual({ state: 'offline', lastSeenAt: null });
	});
});
