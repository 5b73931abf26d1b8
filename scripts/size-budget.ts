// `npm run size`: builds the app and checks the room page's initial JavaScript (gzipped) against
// its budget, listing every file counted, then the emoji pictures the page loads against theirs
// (scripts/lib/emoji-size.ts), then the encryption code an encrypted conversation loads when it
// opens (not in the budget; it fails if any of ts-mls is in the page's first load). `-- --reuse-build`
// measures the existing build.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyEmojiAssets } from './emoji-assets.ts';
import { describeEmoji, emojiWithinBudget, measureEmoji } from './lib/emoji-size.ts';
import {
	BUILD_MANIFEST,
	describeEncryption,
	describeSize,
	kb,
	measureEncryption,
	measureRoomPage,
	withinBudget,
	type FileSize
} from './lib/size.ts';

// What `npm run build` does before `vite build` (its prebuild step).
copyEmojiAssets();
if (!process.argv.includes('--reuse-build') || !existsSync(BUILD_MANIFEST)) {
	execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], {
		stdio: ['ignore', 'ignore', 'inherit']
	});
}

function listFiles(files: FileSize[]): void {
	for (const { file, raw, gzip } of files) {
		console.log(`${kb(gzip).padStart(7)} kB gz  ${kb(raw).padStart(7)} kB  ${file}`);
	}
}

const size = measureRoomPage();
listFiles(size.files);
console.log(describeSize(size));
const emoji = measureEmoji();
for (const line of describeEmoji(emoji)) console.log(line);
const encryption = measureEncryption(size);
listFiles(encryption.files);
for (const line of describeEncryption(encryption)) console.log(line);
if (!withinBudget(size) || !emojiWithinBudget(emoji) || encryption.mlsInFirstLoad.length > 0) {
	process.exitCode = 1;
}
