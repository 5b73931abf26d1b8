// The search box's language, read the same way by the page (to show a query's filters as chips)
// and by the server (to build the full-text query). Words and "quoted phrases" must all match;
// `word*` matches words starting so; filters narrow: `from:@ana in:#design has:file
// before:2026-12-01 after:2026-11-01`. Anything not a filter is text to find.

/** What `has:` accepts: any file, a kind of file, or a link. */
export const HAS_VALUES = ['file', 'image', 'video', 'audio', 'document', 'link'] as const;
export type HasValue = (typeof HAS_VALUES)[number];

export type SearchTerm =
	/** One word; `prefix` when it ended in `*` (or is the word still being typed). */
	| { kind: 'word'; text: string; prefix: boolean }
	/** Words that must appear together, in this order. */
	| { kind: 'phrase'; text: string };

export type ParsedQuery = {
	terms: SearchTerm[];
	/** Usernames, without the `@`, lower-cased. */
	from: string[];
	/** Room names, without the `#`, lower-cased. */
	in: string[];
	has: HasValue[];
	/** Start of the day given (UTC), inclusive for `after:`, exclusive for `before:`. */
	before: string | null;
	after: string | null;
};

export type QueryProblem = { code: 'bad_query' | 'too_broad'; message: string };

export const MAX_QUERY_LENGTH = 200;
export const MAX_TERMS = 12;
/** A prefix shorter than this matches too much to be worth an answer. */
export const MIN_PREFIX = 2;

/**
 * Words too common to narrow anything: a query of nothing else is refused (`too_broad`), not run.
 * English only for now; other languages' common words are rare enough per word to be searched.
 */
const STOP_WORDS = new Set(
	(
		'a an and are as at be but by do for from had has have he her his i if in is it its me my no ' +
		'not of on or our she so that the their them then there they this to was we were what when ' +
		'which who will with you your'
	).split(' ')
);

const SYMBOLS_ONLY = /^\p{So}+$/u;
const FILTER = /^(from|in|has|before|after):(.*)$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads what was typed. `typing`: the person is still typing, so the last word (with no space
 * after it) also matches longer words. Answers a problem instead of a query that would be refused.
 */
export function parseSearchQuery(
	input: string,
	{ typing = false }: { typing?: boolean } = {}
): ParsedQuery | QueryProblem {
	if (input.length > MAX_QUERY_LENGTH) {
		return { code: 'bad_query', message: `Search for at most ${MAX_QUERY_LENGTH} characters.` };
	}
	const query: ParsedQuery = { terms: [], from: [], in: [], has: [], before: null, after: null };
	const tokens = tokenize(input);
	for (const [index, token] of tokens.entries()) {
		if (token.quoted) {
			const text = normalizeText(token.text);
			if (text) query.terms.push({ kind: 'phrase', text });
			continue;
		}
		const last = index === tokens.length - 1 && typing && !/\s$/.test(input);
		const filter = FILTER.exec(token.text);
		if (filter) {
			// A filter still being typed (`from:@an`) counts once a space ends it.
			if (last) continue;
			const problem = addFilter(query, filter[1]!.toLowerCase(), filter[2] ?? '');
			if (problem) return problem;
			continue;
		}
		const starred = token.text.endsWith('*');
		const text = normalizeText(token.text.replace(/\*+$/, ''));
		if (!text) {
			if (starred) return tooBroad('A * needs some letters before it, like design*.');
			continue;
		}
		// A symbol (an emoji) is kept with what follows it (a skin tone, another emoji): find those too.
		const prefix = starred || last || SYMBOLS_ONLY.test(text);
		if (prefix && [...text].length < MIN_PREFIX && !SYMBOLS_ONLY.test(text)) {
			if (starred) return tooBroad(`Give at least ${MIN_PREFIX} letters before the *.`);
			// Still typing one letter: look for the word itself until there is more.
			query.terms.push({ kind: 'word', text, prefix: false });
			continue;
		}
		query.terms.push({ kind: 'word', text, prefix });
	}
	if (query.terms.length > MAX_TERMS) {
		return { code: 'bad_query', message: `Search for at most ${MAX_TERMS} words at once.` };
	}
	if (query.after && query.before && query.after >= query.before) {
		return { code: 'bad_query', message: 'after: must be a day before before:.' };
	}
	const narrows = query.from.length > 0 || query.has.length > 0;
	const words = query.terms.filter((term) => term.kind === 'phrase' || !isStopWord(term.text));
	if (query.terms.length > 0 && words.length === 0 && !narrows) {
		return tooBroad('Those words are in almost every message: add a more specific one.');
	}
	return query;
}

export function isQueryProblem(value: ParsedQuery | QueryProblem): value is QueryProblem {
	return 'code' in value;
}

/** Nothing to look for: no words and no filter that finds messages by itself. */
export function isEmptyQuery(query: ParsedQuery): boolean {
	return query.terms.length === 0 && query.from.length === 0 && query.has.length === 0;
}

/** Read as the index reads it: `hé` is indexed as `he`, so it is as common. */
export function isStopWord(word: string): boolean {
	return STOP_WORDS.has(word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase());
}

/** The query written back out, as the search box shows it (filters last). */
export function formatSearchQuery(query: ParsedQuery): string {
	const parts: string[] = query.terms.map((term) =>
		term.kind === 'phrase' ? `"${term.text}"` : term.prefix ? `${term.text}*` : term.text
	);
	for (const name of query.from) parts.push(`from:@${name}`);
	for (const name of query.in) parts.push(`in:#${name}`);
	for (const value of query.has) parts.push(`has:${value}`);
	if (query.after) parts.push(`after:${query.after}`);
	if (query.before) parts.push(`before:${query.before}`);
	return parts.join(' ');
}

function addFilter(query: ParsedQuery, name: string, raw: string): QueryProblem | null {
	const value = raw.trim();
	if (!value)
		return { code: 'bad_query', message: `${name}: needs a value, like ${example(name)}.` };
	if (name === 'from') {
		query.from.push(value.replace(/^@/, '').toLowerCase());
	} else if (name === 'in') {
		query.in.push(value.replace(/^#/, '').toLowerCase());
	} else if (name === 'has') {
		const has = value.toLowerCase();
		if (!(HAS_VALUES as readonly string[]).includes(has)) {
			return { code: 'bad_query', message: `has: takes one of ${HAS_VALUES.join(', ')}.` };
		}
		if (!query.has.includes(has as HasValue)) query.has.push(has as HasValue);
	} else {
		if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
			return { code: 'bad_query', message: `${name}: takes a day as YYYY-MM-DD.` };
		}
		query[name as 'before' | 'after'] = value;
	}
	return null;
}

function example(name: string): string {
	return (
		{
			from: 'from:@ana',
			in: 'in:#design',
			has: 'has:file',
			before: 'before:2026-12-01',
			after: 'after:2026-11-01'
		}[name] ?? name
	);
}

function tooBroad(message: string): QueryProblem {
	return { code: 'too_broad', message };
}

/** Splits on spaces, keeping "quoted text" together (an unclosed quote runs to the end). */
function tokenize(input: string): { text: string; quoted: boolean }[] {
	const tokens: { text: string; quoted: boolean }[] = [];
	const pattern = /"([^"]*)"?|(\S+)/g;
	for (const match of input.matchAll(pattern)) {
		if (match[1] !== undefined) tokens.push({ text: match[1], quoted: true });
		else tokens.push({ text: match[2] ?? '', quoted: false });
	}
	return tokens;
}

/**
 * The words of a term as the index splits them (migration 0011's tokenizer): letters, digits and
 * symbols such as emoji, of any script; everything else is a space there, so it is here too, and
 * a query never carries the index's syntax through.
 */
function normalizeText(text: string): string {
	return text
		.replace(/[^\p{L}\p{N}\p{M}\p{Co}\p{So}]+/gu, ' ')
		.trim()
		.replace(/\s+/g, ' ');
}
