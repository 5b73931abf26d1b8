// The search box's language: what is a word, a phrase, a prefix or a filter, and what is refused.
import { describe, expect, it } from 'vitest';
import {
	formatSearchQuery,
	isQueryProblem,
	parseSearchQuery,
	type ParsedQuery
} from '$lib/search-query';

function parsed(input: string, typing = false): ParsedQuery {
	const query = parseSearchQuery(input, { typing });
	if (isQueryProblem(query)) throw new Error(query.message);
	return query;
}

describe('parseSearchQuery', () => {
	it('reads words, phrases, prefixes and every filter', () => {
		expect(
			parsed(
				'Deploy "next  Tuesday" rel* from:@Ana in:#Design has:file has:image before:2026-12-01 after:2026-11-01'
			)
		).toEqual({
			terms: [
				{ kind: 'word', text: 'Deploy', prefix: false },
				{ kind: 'phrase', text: 'next Tuesday' },
				{ kind: 'word', text: 'rel', prefix: true }
			],
			from: ['ana'],
			in: ['design'],
			has: ['file', 'image'],
			before: '2026-12-01',
			after: '2026-11-01'
		});
	});

	it('makes the word being typed a prefix, once it has two letters', () => {
		expect(parsed('plan mee', true).terms.at(-1)).toEqual({
			kind: 'word',
			text: 'mee',
			prefix: true
		});
		expect(parsed('plan mee ', true).terms.at(-1)).toEqual({
			kind: 'word',
			text: 'mee',
			prefix: false
		});
		expect(parsed('plan m', true).terms.at(-1)).toEqual({ kind: 'word', text: 'm', prefix: false });
		expect(parsed('plan mee').terms.at(-1)).toEqual({ kind: 'word', text: 'mee', prefix: false });
		// A filter still being typed waits for the space that ends it.
		expect(parsed('plan from:@an', true)).toMatchObject({ from: [] });
		expect(parsed('plan has:fi', true)).toMatchObject({ has: [] });
		expect(parsed('plan from:@ana ', true)).toMatchObject({ from: ['ana'] });
	});

	it('keeps only letters, digits and symbols of any script, so no index syntax gets through', () => {
		expect(parsed('NEAR(a, b) {body}: x^y -z "q" ').terms).toEqual([
			{ kind: 'word', text: 'NEAR a', prefix: false },
			{ kind: 'word', text: 'b', prefix: false },
			{ kind: 'word', text: 'body', prefix: false },
			{ kind: 'word', text: 'x y', prefix: false },
			{ kind: 'word', text: 'z', prefix: false },
			{ kind: 'phrase', text: 'q' }
		]);
		expect(parsed('café 東京 привет 🚀').terms).toEqual([
			{ kind: 'word', text: 'café', prefix: false },
			{ kind: 'word', text: '東京', prefix: false },
			{ kind: 'word', text: 'привет', prefix: false },
			// An emoji also finds itself with a skin tone or beside another emoji.
			{ kind: 'word', text: '🚀', prefix: true }
		]);
	});

	it('refuses, with a reason, what would match everything or cannot be read', () => {
		for (const [input, code] of [
			['*', 'too_broad'],
			['a*', 'too_broad'],
			['the and of', 'too_broad'],
			// Accents are folded by the index, so these are as common as `he` and `a`.
			['hé À', 'too_broad'],
			['has:nothing', 'bad_query'],
			['from:', 'bad_query'],
			['before:2026-13-45', 'bad_query'],
			['after:2026-12-02 before:2026-12-01', 'bad_query'],
			['x'.repeat(201), 'bad_query'],
			[Array.from({ length: 13 }, (_, i) => `w${i}`).join(' '), 'bad_query']
		] as const) {
			const query = parseSearchQuery(input);
			expect(isQueryProblem(query) && query.code, input).toBe(code);
		}
		// Common words are fine beside a filter or a specific word, or quoted.
		expect(isQueryProblem(parseSearchQuery('the from:@ana'))).toBe(false);
		expect(isQueryProblem(parseSearchQuery('the plan'))).toBe(false);
		expect(isQueryProblem(parseSearchQuery('"to be or not to be"'))).toBe(false);
	});

	it('writes a query back as the box shows it, and reads it again the same', () => {
		const query = parsed('"a b" cd* d from:@x in:#y has:link after:2026-01-01 before:2026-02-01');
		expect(formatSearchQuery(query)).toBe(
			'"a b" cd* d from:@x in:#y has:link after:2026-01-01 before:2026-02-01'
		);
		expect(parsed(formatSearchQuery(query))).toEqual(query);
	});
});
