// The room page's initial JavaScript, gzipped, against a budget. "Initial" is what the page's HTML
// makes the browser fetch before it is interactive: the client entry (start + app) and the
// modulepreloaded chunks of the root layout, the room layout and the room page, exactly the lists
// SvelteKit writes into the server manifest for that route. Lazy chunks (dynamic imports) are not
// counted. Run: npm run size  (`-- --reuse-build` to measure the existing build).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const ROUTE = '/rooms/[id]';
const BUDGET_KB = 100;
const server = '.svelte-kit/output/server';
const client = '.svelte-kit/output/client';

if (!process.argv.includes('--reuse-build') || !existsSync(`${server}/manifest.js`)) {
	execFileSync('npx', ['vite', 'build', '--logLevel', 'error'], {
		stdio: ['ignore', 'ignore', 'inherit']
	});
}

const manifest = readFileSync(`${server}/manifest.js`, 'utf8');

function stringList(source: string, pattern: RegExp, what: string): string[] {
	const match = pattern.exec(source);
	if (!match) throw new Error(`could not find ${what} in the build manifest`);
	return [...match[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

const entry = stringList(manifest, /client:\s*\{[^}]*?imports:\s*\[([^\]]*)\]/, 'the client entry');
const escaped = ROUTE.replace(/[[\]/]/g, (c) => `\\${c}`);
const route = new RegExp(`id:\\s*"${escaped}"[\\s\\S]*?page:\\s*\\{([^}]*)\\}`).exec(manifest);
if (!route) throw new Error(`route ${ROUTE} is not in the build manifest`);
const layouts = /layouts:\s*\[([^\]]*)\]/.exec(route[1]!)?.[1] ?? '';
const leaf = /leaf:\s*(\d+)/.exec(route[1]!)?.[1];
const nodes = [...layouts.matchAll(/\d+/g)].map((m) => m[0]);
if (leaf) nodes.push(leaf);

const files = new Set(entry);
for (const node of nodes) {
	const source = readFileSync(`${server}/nodes/${node}.js`, 'utf8');
	for (const file of stringList(source, /export const imports = \[([^\]]*)\]/, `node ${node}`)) {
		files.add(file);
	}
}

const sizes = [...files].map((file) => {
	const bytes = readFileSync(`${client}/${file}`);
	return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
sizes.sort((a, b) => b.gzip - a.gzip);
const kb = (bytes: number) => (bytes / 1000).toFixed(1);
for (const { file, raw, gzip } of sizes) {
	console.log(`${kb(gzip).padStart(7)} kB gz  ${kb(raw).padStart(7)} kB  ${file}`);
}
const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
const verdict = total <= BUDGET_KB * 1000 ? 'within' : 'OVER';
console.log(
	`Room page (${ROUTE}) initial JavaScript: ${kb(total)} kB gzipped in ${sizes.length} files, ${verdict} the ${BUDGET_KB} kB budget.`
);
if (total > BUDGET_KB * 1000) process.exitCode = 1;
