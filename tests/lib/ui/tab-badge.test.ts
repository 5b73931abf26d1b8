import { describe, expect, it } from 'vitest';
import { titleWithCount } from '$lib/ui/tab-badge';

describe('the tab title’s unread count', () => {
	it('goes in front of the page’s title, and none at zero', () => {
		expect(titleWithCount('Book club · Parley', 3)).toBe('(3) Book club · Parley');
		expect(titleWithCount('Book club · Parley', 0)).toBe('Book club · Parley');
	});

	it('replaces the count already there instead of stacking a second', () => {
		expect(titleWithCount('(3) Book club · Parley', 5)).toBe('(5) Book club · Parley');
		expect(titleWithCount('(99+) Parley', 0)).toBe('Parley');
	});

	it('stops counting at 99+', () => {
		expect(titleWithCount('Parley', 100)).toBe('(99+) Parley');
		expect(titleWithCount('Parley', 99)).toBe('(99) Parley');
	});

	it('leaves a title that only looks like a count alone', () => {
		expect(titleWithCount('(draft) notes · Parley', 2)).toBe('(2) (draft) notes · Parley');
	});
});
