import { describe, expect, it } from 'vitest';
import { parse } from '@twemoji/parser';
import { EMOJI_GROUPS } from '$shared/emoji';
import { REACTION_CHOICES, emojiFileName, emojiSrc } from '$shared/emoji-pictures';

// The files the app ships (scripts/emoji-assets.ts copies this folder), listed without loading them.
const SHIPPED = new Set(
	Object.keys(import.meta.glob('/node_modules/@twemoji/svg/*.svg')).map((p) => p.split('/').pop()!)
);

/** The file Twemoji's own parser names for `emoji`, if it finds `emoji` as one whole emoji. */
function twemojiFile(emoji: string): string | undefined {
	const entities = parse(emoji);
	if (entities.length !== 1 || entities[0]!.text !== emoji) return undefined;
	return entities[0]!.url.split('/').pop();
}

// Beyond the tables: the shapes of emoji a reaction may take (isReactionEmoji).
const SHAPES = [
	'👍🏽', // skin tone
	'❤️', // presentation selector, dropped
	'☺️',
	'©️',
	'#️⃣', // keycap
	'🇫🇷', // flag
	'🏴󠁧󠁢󠁳󠁣󠁴󠁿', // subdivision flag (tag characters)
	'👩‍💻', // zero-width-joiner sequence
	'🏳️‍🌈', // ZWJ sequence with a selector, kept
	'❤️‍🔥',
	'👨‍👩‍👧‍👦',
	'🧑🏿‍🤝‍🧑🏻',
	'🫡'
];

describe('emoji picture files', () => {
	const table = EMOJI_GROUPS.flatMap((group) => group.emoji.map((e) => e.char));
	const everyKind = [...table, ...REACTION_CHOICES, ...SHAPES];

	it('exist in the shipped set for every emoji of the pickers and every kind of sequence', () => {
		expect(SHIPPED.size).toBeGreaterThan(3000);
		for (const emoji of everyKind) expect(SHIPPED, emoji).toContain(emojiFileName(emoji));
	});

	it("are named as Twemoji's parser names them", () => {
		let compared = 0;
		for (const emoji of everyKind) {
			// The parser (17.0.2) misreads a few, such as ✌️ (it finds only the selector); the test
			// above holds those to the files themselves.
			const expected = twemojiFile(emoji);
			if (expected === undefined) continue;
			expect(emojiFileName(emoji), emoji).toBe(expected);
			compared += 1;
		}
		expect(compared).toBeGreaterThan(everyKind.length - 3);
	});

	it('name every shipped file when given its own characters', () => {
		for (const file of SHIPPED) {
			const chars = file
				.slice(0, -'.svg'.length)
				.split('-')
				.map((hex) => String.fromCodePoint(parseInt(hex, 16)))
				.join('');
			expect(emojiFileName(chars)).toBe(file);
		}
	});

	it('are hex code points joined by dashes, without a lone presentation selector', () => {
		expect(emojiFileName('👍')).toBe('1f44d.svg');
		expect(emojiFileName('❤️')).toBe('2764.svg');
		expect(emojiFileName('#️⃣')).toBe('23-20e3.svg');
		expect(emojiFileName('🏳️‍🌈')).toBe('1f3f3-fe0f-200d-1f308.svg');
	});

	it('are served from the static emoji folder', () => {
		expect(emojiSrc('🎉')).toBe('/emoji/1f389.svg');
	});
});
