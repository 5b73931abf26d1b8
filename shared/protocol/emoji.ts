// What counts as one reaction: a single emoji, possibly with skin tone, variation selector or ZWJ
// sequence (👍🏽, ❤️, 👩‍💻, 🇫🇷), never free text smuggled into the reaction bar.
const EMOJI_PARTS = /^[\p{Extended_Pictographic}\p{Emoji_Component}]+$/u;
const PICTOGRAPH = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function isReactionEmoji(value: string): boolean {
	if (!EMOJI_PARTS.test(value) || !PICTOGRAPH.test(value)) return false;
	let graphemes = 0;
	for (const _ of segmenter.segment(value)) if (++graphemes > 1) return false;
	return graphemes === 1;
}
