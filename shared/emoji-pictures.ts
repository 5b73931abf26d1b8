// Emoji are drawn from pictures that ship with the app rather than from the system's fonts: many
// Linux desktops have no colour emoji font and show empty boxes. Shared: the pickers and reactions
// use it in the browser, and the message renderer (`markdown.ts`) on both sides.
//
// The set is Twemoji (graphics CC-BY 4.0), one SVG per emoji, from the `@twemoji/svg` package;
// `scripts/emoji-assets.ts` copies it into `static/emoji/` when the app is built. Chosen over a
// colour emoji font (Noto Color Emoji, OFL-1.1): the font comes in unicode-range slices of 20 kB to
// 1.2 MB, so showing 👍, ❤️ and 😂 fetches several hundred kB, where the three SVGs are 3 kB and each
// emoji costs only its own file, fetched when it is shown.
//
// No emoji→file table is needed in the page's JavaScript: the file is named by Twemoji's own rule,
// computed here from the code points (the tests hold it to `@twemoji/parser`'s answers).

/** Where `scripts/emoji-assets.ts` puts the files, under `static/`, and so their URL path. */
export const EMOJI_DIR = 'emoji';

const ZWJ = '\u200d';
const VS16 = /\ufe0f/g;

/**
 * The file name of an emoji's picture: its code points in lower-case hex, joined by "-". The emoji
 * presentation selector (U+FE0F) is left out unless the emoji is a zero-width-joiner sequence,
 * where Twemoji keeps it (❤️ is `2764.svg`, 🏳️‍🌈 is `1f3f3-fe0f-200d-1f308.svg`).
 */
export function emojiFileName(emoji: string): string {
	const text = emoji.includes(ZWJ) ? emoji : emoji.replace(VS16, '');
	const points = Array.from(text, (char) => char.codePointAt(0)!.toString(16));
	return `${points.join('-')}.svg`;
}

/** The URL of an emoji's picture, from the site's root. */
export function emojiSrc(emoji: string): string {
	return `/${EMOJI_DIR}/${emojiFileName(emoji)}`;
}

/**
 * Every emoji of the Unicode RGI set (sequences whole: flags, skin tones, families), or null where
 * the engine has no `v` flag: there the system draws emoji, as before. Built at run time so that
 * no bundler has to understand the flag.
 */
const EMOJI: RegExp | null = (() => {
	try {
		return new RegExp('\\p{RGI_Emoji}', 'gv');
	} catch {
		return null;
	}
})();

/**
 * `html` (escaped text, as the renderer writes it) with each emoji as its picture. The character is
 * the alt text, so it is what a screen reader reads, a copy carries and a preview keeps; an emoji
 * newer than the set shows as text again (`MessageBody` swaps a picture that fails to load).
 * Nothing else is touched: escaping leaves no character an emoji could be made of.
 */
export function emojiPictures(html: string): string {
	if (!EMOJI) return html;
	return html.replace(
		EMOJI,
		(emoji) =>
			`<img class="emoji" src="${emojiSrc(emoji)}" alt="${emoji}" draggable="false" loading="lazy">`
	);
}

/** The reaction picker's choices; `npm run size` counts their pictures too. */
export const REACTION_CHOICES: readonly string[] = ['👍', '❤️', '😂', '🎉', '😮', '😢'];
