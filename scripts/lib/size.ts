// The room page's initial JavaScript, gzipped. "Initial" is what the page's HTML makes the browser
// fetch before it is interactive: the client entry (start + app) and the modulepreloaded chunks of
// the root layout, the room layout and the room page, exactly the lists SvelteKit writes into the
// server manifest for that route. Lazy chunks (dynamic imports) are not counted. Reads an existing
// build (`vite build`); shared by `npm run size` and `npm run bench`.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const ROUTE = '/rooms/[id]';
export const BUDGET_KB = 100;
const server = '.svelte-kit/output/server';
const client = '.svelte-kit/output/client';
export const BUILD_MANIFEST = `${server}/manifest.js`;

export type FileSize = { file: string; raw: number; gzip: number };
export type RoomPageSize = { route: string; files: FileSize[]; gzip: number; budgetKb: number };

function stringList(source: string, pattern: RegExp, what: string): string[] {
	const match = pattern.exec(source);
	if (!match) throw new Error(`could not find ${what} in the build manifest`);
	return [...match[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

export function measureRoomPage(): RoomPageSize {
	const manifest = readFileSync(BUILD_MANIFEST, 'utf8');
	const entry = stringList(
		manifest,
		/client:\s*\{[^}]*?imports:\s*\[([^\]]*)\]/,
		'the client entry'
	);
	const escaped = ROUTE.replace(/[[\]/]/g, (c) => `\\${c}`);
	const route = new RegExp(`id:\\s*"${escaped}"[\\s\\S]*?page:\\s*\\{([^}]*)\\}`).exec(manifest);
	if (!route) throw new Error(`route ${ROUTE} is not in the build manifest`);
	const layouts = /layouts:\s*\[([^\]]*)\]/.exec(route[1]!)?.[1] ?? '';
	const leaf = /leaf:\s*(\d+)/.exec(route[1]!)?.[1];
	const nodes = [...layouts.matchAll(/\d+/g)].map((m) => m[0]);
	if (leaf) nodes.push(leaf);

	const names = new Set(entry);
	for (const node of nodes) {
		const source = readFileSync(`${server}/nodes/${node}.js`, 'utf8');
		for (const file of stringList(source, /export const imports = \[([^\]]*)\]/, `node ${node}`)) {
			names.add(file);
		}
	}
	const files = [...names].map((file) => {
		const bytes = readFileSync(`${client}/${file}`);
		return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
	});
	files.sort((a, b) => b.gzip - a.gzip);
	const gzip = files.reduce((sum, s) => sum + s.gzip, 0);
	return { route: ROUTE, files, gzip, budgetKb: BUDGET_KB };
}

export const kb = (bytes: number): string => (bytes / 1000).toFixed(1);

export function withinBudget(size: RoomPageSize): boolean {
	return size.gzip <= size.budgetKb * 1000;
}

export function describeSize(size: RoomPageSize): string {
	const verdict = withinBudget(size) ? 'within' : 'OVER';
	return `Room page (${size.route}) initial JavaScript: ${kb(size.gzip)} kB gzipped in ${size.files.length} files, ${verdict} the ${size.budgetKb} kB budget.`;
}
