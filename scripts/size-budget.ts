// `npm run size`: builds the app and checks the room page's initial JavaScript (gzipped) against
// its budget, listing every file counted. `-- --reuse-build` measures the existing build.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BUILD_MANIFEST, describeSize, kb, measureRoomPage, withinBudget } from './lib/size.ts';

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
if (!withinBudget(size)) process.exitCode = 1;
