// The emoji pictures a room page fetches (gzipped, as they are served), beside its JavaScript. They
// load only when shown, so what is counted is what opening the pickers costs: every picture of the
// composer's picker as it first opens (its whole table: the panel is small enough that the
// browser's lazy loading fetches all of it) and of the reaction picker. Apart, the largest picture
// shipped, which is what one reaction can cost: a reaction may be any emoji.
//
// Limits: the first views are ~49 kB today (82 + 6 pictures, 0.6 kB each on average); 60 kB leaves
// room for about twenty more in the table and fails if a heavier set or a much longer table comes
// in. The largest picture is a 10 kB flag; 12 kB fails if a set with heavier drawings replaces it.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { searchEmoji } from '../../shared/emoji.ts';
import { REACTION_CHOICES, emojiFileName } from '../../shared/emoji-pictures.ts';
import { EMOJI_OUT } from '../emoji-assets.ts';
import { kb, type FileSize } from './size.ts';

export const FIRST_VIEW_BUDGET_KB = 60;
export const LARGEST_BUDGET_KB = 12;

export type EmojiSize = {
	/** The pictures of both pickers' first views, each once. */
	firstView: FileSize[];
	firstViewGzip: number;
	largest: FileSize;
	/** Emoji of the pickers with no picture in the set: the picker would show the system's glyph. */
	missing: string[];
};

function measure(file: string): FileSize {
	const bytes = readFileSync(path.join(EMOJI_OUT, file));
	return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** Reads the pictures `scripts/emoji-assets.ts` put in `static/emoji/`. */
export function measureEmoji(): EmojiSize {
	const shipped = new Set(readdirSync(EMOJI_OUT).filter((f) => f.endsWith('.svg')));
	const shown = [...searchEmoji('').map((e) => e.char), ...REACTION_CHOICES];
	const missing = shown.filter((emoji) => !shipped.has(emojiFileName(emoji)));
	const files = new Set(shown.map(emojiFileName).filter((file) => shipped.has(file)));
	const firstView = [...files].map(measure);
	const firstViewGzip = firstView.reduce((sum, s) => sum + s.gzip, 0);
	let largest: FileSize = { file: '(none)', raw: 0, gzip: 0 };
	for (const file of shipped) {
		const size = measure(file);
		if (size.gzip > largest.gzip) largest = size;
	}
	return { firstView, firstViewGzip, largest, missing };
}

export function emojiWithinBudget(size: EmojiSize): boolean {
	return (
		size.missing.length === 0 &&
		size.firstViewGzip <= FIRST_VIEW_BUDGET_KB * 1000 &&
		size.largest.gzip <= LARGEST_BUDGET_KB * 1000
	);
}

export function describeEmoji(size: EmojiSize): string[] {
	const verdict = (ok: boolean) => (ok ? 'within' : 'OVER');
	const lines = [
		`Room page emoji, pickers' first views: ${kb(size.firstViewGzip)} kB gzipped in ${size.firstView.length} files, ${verdict(size.firstViewGzip <= FIRST_VIEW_BUDGET_KB * 1000)} the ${FIRST_VIEW_BUDGET_KB} kB budget.`,
		`Largest emoji file (${size.largest.file}): ${kb(size.largest.gzip)} kB gzipped, ${verdict(size.largest.gzip <= LARGEST_BUDGET_KB * 1000)} the ${LARGEST_BUDGET_KB} kB budget.`
	];
	if (size.missing.length > 0) {
		lines.push(`Emoji of the pickers with no picture in static/emoji/: ${size.missing.join(' ')}`);
	}
	return lines;
}
