// `npm run size`: builds the app and checks the room page's initial JavaScript (gzipped) against
// its budget, listing every file counted, then the emoji pictures the page loads against theirs
// (scripts/lib/emoji-size.ts). `-- --reuse-build` measures the existing build.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyEmojiAssets } from './emoji-assets.ts';
import { describeEmoji, emojiWithinBudget, measureEmoji } from './lib/emoji-size.ts';
import { BUILD_MANIFEST, describeSize, kb, measureRoomPage, withinBudget } from './lib/size.ts';

// What `npm run build` does before `vite build` (its prebuild step).
copyEmojiAssets();
if (!process.argv.includes('--reuse-build') || !existsSync(BUILD_MANIFEST)) {
	execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], {
		stdio: ['ignore', 'ignore', 'inherit']
	});
}

const size = measureRoomPage();
for (const { file, raw, gzip } of size.files) {
	console.log(`${kb(gzip).padStart(7)} kB gz  ${kb(raw).padStart(7)} kB  ${file}`);
}
console.log(describeSize(size));
const emoji = measureEmoji();
for (const line of describeEmoji(emoji)) console.log(line);
if (!withinBudget(size) || !emojiWithinBudget(emoji)) process.exitCode = 1;
