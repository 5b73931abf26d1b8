import { describe, expect, it } from 'vitest';
import { mentionAt, mentionCandidates } from '../../src/routes/rooms/[id]/mentions';

describe('mentionAt', () => {
	it('finds the @word that ends at the caret', () => {
		expect(mentionAt('hi @bo', 6, 6)).toEqual({ start: 3, end: 6, query: 'bo' });
		expect(mentionAt('@', 1, 1)).toEqual({ start: 0, end: 1, query: '' });
	});

	it('replaces the whole word when the caret is inside it', () => {
		expect(mentionAt('hi @bob and', 5, 5)).toEqual({ start: 3, end: 7, query: 'b' });
	});

	it('ignores e-mail addresses, finished words and selections', () => {
		expect(mentionAt('mail bob@example', 16, 16)).toBeNull();
		expect(mentionAt('hi @bob ', 8, 8)).toBeNull();
		expect(mentionAt('hi @bob', 4, 7)).toBeNull();
	});
});

describe('mentionCandidates', () => {
	const people = [
		{ username: 'carol', displayName: 'Carol Bobbins' },
		{ username: 'bob', displayName: 'Bob' },
		{ username: 'alice', displayName: 'Alice' }
	];

	it('puts username matches before display-name matches', () => {
		expect(mentionCandidates(people, 'bo', 5).map((p) => p.username)).toEqual(['bob', 'carol']);
	});

	it('offers everyone for a bare @, up to the limit', () => {
		expect(mentionCandidates(people, '', 2).map((p) => p.username)).toEqual(['alice', 'bob']);
	});

	it('offers no one when nothing matches', () => {
		expect(mentionCandidates(people, 'zed', 5)).toEqual([]);
	});
});
