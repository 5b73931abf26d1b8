// Copies the Twemoji SVGs from the installed `@twemoji/svg` package into `static/emoji/` (ignored by
// git), where SvelteKit serves them as static files: nothing is fetched from the internet when the
// app runs, in development, in the tests or deployed. npm runs it before `npm run build` (so also
// before `npm run dev` and the e2e suite); `npm run size` runs it too. The copy is skipped when it
// is already of the installed version.
//
// The graphics are Twemoji's, licensed CC-BY 4.0: the folder carries that notice with them.
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	readFileSync,
	readdirSync,
	rmSync,
	writeFileSync
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const EMOJI_OUT = fileURLToPath(new URL('../static/emoji', import.meta.url));
const STAMP = '.twemoji-version';

const NOTICE = `Emoji graphics: Twemoji, copyright Twitter, Inc and other contributors,
licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/).
https://github.com/jdecked/twemoji
`;

/** Copies the set unless `static/emoji/` already holds this version; returns how many files. */
export function copyEmojiAssets(): { version: string; files: number; copied: boolean } {
	const manifest = createRequire(import.meta.url).resolve('@twemoji/svg/package.json');
	const source = path.dirname(manifest);
	const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
	const svgs = readdirSync(source).filter((name) => name.endsWith('.svg'));
	if (svgs.length === 0) throw new Error(`no SVG files in ${source}`);

	const stamp = path.join(EMOJI_OUT, STAMP);
	if (existsSync(stamp) && readFileSync(stamp, 'utf8') === version) {
		return { version, files: svgs.length, copied: false };
	}
	rmSync(EMOJI_OUT, { recursive: true, force: true });
	mkdirSync(EMOJI_OUT, { recursive: true });
	for (const name of svgs) copyFileSync(path.join(source, name), path.join(EMOJI_OUT, name));
	writeFileSync(path.join(EMOJI_OUT, 'LICENSE.txt'), NOTICE);
	// Last, so an interrupted copy is redone next time.
	writeFileSync(stamp, version);
	return { version, files: svgs.length, copied: true };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	const { version, files, copied } = copyEmojiAssets();
	if (copied) console.log(`emoji: copied ${files} Twemoji SVGs (${version}) into static/emoji/`);
}
