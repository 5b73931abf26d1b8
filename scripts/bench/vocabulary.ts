// Deterministic randomness and words for the generated history: a seeded generator, a Zipf
// sampler, and a vocabulary ranked by frequency (English stop words first, then pronounceable
// made-up words, some accented, some in other scripts, and an emoji now and then). The generator
// writes bodies from it and the search scenario draws its queries from the same ranks.

/** A small seeded generator (sfc32): the same seed gives the same data on every machine. */
export class Random {
	#a: number;
	#b: number;
	#c: number;
	#d: number;

	constructor(seed: string) {
		// The seed's characters folded into four words (FNV-1a style), then a few rounds to mix.
		let h = 2166136261;
		const words = [0, 0, 0, 0];
		for (let i = 0; i < seed.length; i++) {
			h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
			words[i % 4] = (words[i % 4]! + h) | 0;
		}
		[this.#a, this.#b, this.#c, this.#d] = [
			words[0]! ^ 0x9e3779b9,
			words[1]! ^ 0x243f6a88,
			words[2]! ^ 0xb7e15162,
			words[3]! || 1
		];
		for (let i = 0; i < 16; i++) this.next();
	}

	/** A float in [0, 1). */
	next(): number {
		const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
		this.#d = (this.#d + 1) | 0;
		this.#a = this.#b ^ (this.#b >>> 9);
		this.#b = (this.#c + (this.#c << 3)) | 0;
		this.#c = (this.#c << 21) | (this.#c >>> 11);
		this.#c = (this.#c + t) | 0;
		return (t >>> 0) / 4294967296;
	}

	/** An integer in [0, n). */
	int(n: number): number {
		return Math.floor(this.next() * n);
	}

	pick<T>(items: readonly T[]): T {
		return items[this.int(items.length)]!;
	}

	chance(p: number): boolean {
		return this.next() < p;
	}

	/** `length` characters of lower-case base32, like the app's ids. */
	id(length = 24): string {
		const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
		let out = '';
		for (let i = 0; i < length; i++) out += alphabet[this.int(32)];
		return out;
	}
}

/** Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^s. */
export class Zipf {
	readonly #cumulative: Float64Array;

	constructor(n: number, s: number) {
		this.#cumulative = new Float64Array(n);
		let total = 0;
		for (let rank = 0; rank < n; rank++) {
			total += 1 / (rank + 1) ** s;
			this.#cumulative[rank] = total;
		}
		for (let rank = 0; rank < n; rank++) this.#cumulative[rank]! /= total;
	}

	get size(): number {
		return this.#cumulative.length;
	}

	/** The share of draws that land on `rank`. */
	share(rank: number): number {
		return this.#cumulative[rank]! - (rank > 0 ? this.#cumulative[rank - 1]! : 0);
	}

	draw(random: Random): number {
		const u = random.next();
		let lo = 0;
		let hi = this.#cumulative.length - 1;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.#cumulative[mid]! < u) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}
}

/** English's commonest words, roughly by frequency: the top ranks of every history. */
export const STOP_WORDS = (
	'the to and a of i you it in is that for on this be with have are was not but so we just my ' +
	'can if at do me what your all like they get will no about one there know out up he how think ' +
	'its from good as or when time then now an by would see our been them ok yes go were had more ' +
	'some she her his which who their has did us also here really too very want any could should ' +
	'these those than where because well'
).split(' ');

const EMOJI = ['😂', '👍', '🎉', '❤️', '🙏', '😅', '🔥', '👀', '✅', '🤔', '😊', '🚀'];

const ONSETS = 'b c d f g h j k l m n p r s t v w z br cr dr fl gr kl pl pr sh st tr ch th'.split(
	' '
);
const VOWELS = 'a e i o u a e i o ai ea ou'.split(' ');
const CODAS = ['', '', '', 'n', 'r', 's', 'l', 'm', 'nd', 'st', 'rt', 'x'];
const ACCENTED: Record<string, string> = { a: 'á', e: 'é', i: 'í', o: 'ö', u: 'ü', n: 'ñ', c: 'ç' };
/** Syllables of a few other scripts, for words the Latin-only tokenizers would mangle. */
const SCRIPTS = [
	'ка ло ми ре ту на ви до ся лю'.split(' '),
	'κα λο μι ρε τυ να βι δο σα λη'.split(' '),
	'か き く け こ さ し す せ そ な に'.split(' '),
	'با تي سو نا مر كل دي رو'.split(' '),
	'का ली मु रे तो ना वि दो'.split(' ')
];

export type Vocabulary = {
	/** Words by rank: index 0 is the commonest. */
	words: string[];
	/** Ranks of stop words (all at the top). */
	stopWords: number;
	zipf: Zipf;
};

/** Zipf's exponent for words: about 1 for natural language. */
const WORD_EXPONENT = 1.0;

/** About `size` distinct words, the same for the same seed. */
export function makeVocabulary(seed: string, size = 20_000): Vocabulary {
	const random = new Random(`${seed}:words`);
	const seen = new Set<string>(STOP_WORDS);
	const made: string[] = [];
	while (made.length < size - STOP_WORDS.length) {
		const roll = random.next();
		let word: string;
		if (roll < 0.02) {
			const syllables = random.pick(SCRIPTS);
			word = Array.from({ length: 2 + random.int(2) }, () => random.pick(syllables)).join('');
		} else {
			const count = 1 + Math.min(3, Math.floor(-Math.log(1 - random.next()) * 1.2));
			word = '';
			for (let i = 0; i < count; i++) {
				word +=
					random.pick(ONSETS) + random.pick(VOWELS) + (i === count - 1 ? random.pick(CODAS) : '');
			}
			if (roll < 0.05) {
				// An accented letter: the index folds diacritics, so "cafe" finds "café".
				const letters = [...word];
				const at = letters.findIndex((c) => ACCENTED[c] !== undefined);
				if (at >= 0) letters[at] = ACCENTED[letters[at]!]!;
				word = letters.join('');
			}
		}
		if (word.length < 2 || seen.has(word)) continue;
		seen.add(word);
		made.push(word);
	}
	// Frequent words are short: sort the made-up ones mostly by length, with some shuffle.
	const keyed = made.map((word) => ({ word, key: [...word].length + random.next() * 4 }));
	keyed.sort((a, b) => a.key - b.key);
	const words = [...STOP_WORDS, ...keyed.map((k) => k.word)];
	return { words, stopWords: STOP_WORDS.length, zipf: new Zipf(words.length, WORD_EXPONENT) };
}

/** A message of 3 to 30 words (mostly short), punctuated, now and then with an emoji. */
export function messageBody(vocabulary: Vocabulary, random: Random): string {
	const u = random.next();
	const count = 3 + Math.floor(27 * u * u * u);
	const parts: string[] = [];
	for (let i = 0; i < count; i++) {
		let word = vocabulary.words[vocabulary.zipf.draw(random)]!;
		if (i === 0 && random.chance(0.5)) word = word[0]!.toUpperCase() + word.slice(1);
		parts.push(word);
		if (i < count - 1 && random.chance(0.06)) parts[parts.length - 1] += ',';
	}
	if (random.chance(0.04)) parts.splice(random.int(parts.length + 1), 0, random.pick(EMOJI));
	const end = random.next();
	return parts.join(' ') + (end < 0.5 ? '' : end < 0.8 ? '.' : end < 0.95 ? '?' : '!');
}

/** A word drawn by frequency that is not a stop word (what people search for). */
export function searchWord(vocabulary: Vocabulary, random: Random): string {
	for (;;) {
		const rank = vocabulary.zipf.draw(random);
		if (rank >= vocabulary.stopWords) return vocabulary.words[rank]!;
	}
}
