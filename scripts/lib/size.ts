// The room page's initial JavaScript, gzipped. "Initial" is what the page's HTML makes the browser
// fetch before it is interactive: the client entry (start + app) and the modulepreloaded chunks of
// the root layout, the room layout and the room page, exactly the lists SvelteKit writes into the
// server manifest for that route. Lazy chunks (dynamic imports) are not counted. Reads an existing
// build (`vite build`); shared by `npm run size` and `npm run bench`.
//
// Apart, not in the budget: the encryption code an encrypted conversation loads when it opens
// (`lazy-room.svelte.ts` imports `room-crypto.svelte.ts`), found in Vite's manifest, and whether
// any file of the room page's first load holds ts-mls, which it must not.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const ROUTE = '/rooms/[id]';
export const BUDGET_KB = 100;
const server = '.svelte-kit/output/server';
const client = '.svelte-kit/output/client';
export const BUILD_MANIFEST = `${server}/manifest.js`;
const VITE_MANIFEST = `${client}/.vite/manifest.json`;
/** The module an encrypted conversation loads when it opens. */
export const ENCRYPTION_MODULE = 'src/lib/client/e2ee/room-crypto.svelte.ts';
/**
 * Strings ts-mls's code carries, which minifying keeps (they are string literals): RFC 9420's
 * label prefix, used by its key schedule, signatures and HPKE, and a wire format's name from its
 * message codec. A file holding either holds ts-mls.
 */
const MLS_MARKERS = ['MLS 1.0 ', 'mls_group_info'];

export type FileSize = { file: string; raw: number; gzip: number };
export type RoomPageSize = { route: string; files: FileSize[]; gzip: number; budgetKb: number };
export type EncryptionSize = {
	module: string;
	/** Fetched when an encrypted conversation opens: what the room page has not loaded already. */
	files: FileSize[];
	gzip: number;
	/** Files of the room page's first load that hold ts-mls: there must be none. */
	mlsInFirstLoad: string[];
};

function measureFile(file: string): FileSize {
	const bytes = readFileSync(`${client}/${file}`);
	return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

function bySize(files: FileSize[]): { files: FileSize[]; gzip: number } {
	files.sort((a, b) => b.gzip - a.gzip);
	return { files, gzip: files.reduce((sum, s) => sum + s.gzip, 0) };
}

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
	return { route: ROUTE, ...bySize([...names].map(measureFile)), budgetKb: BUDGET_KB };
}

type ViteChunk = { file: string; imports?: string[] };

/** The encryption module's chunk and every chunk it imports, and ts-mls's absence from `page`. */
export function measureEncryption(page: RoomPageSize): EncryptionSize {
	const manifest = JSON.parse(readFileSync(VITE_MANIFEST, 'utf8')) as Record<string, ViteChunk>;
	const keys = new Set([ENCRYPTION_MODULE]);
	for (const key of keys) {
		const chunk = manifest[key];
		if (!chunk) throw new Error(`${key} is not in Vite's manifest`);
		for (const imported of chunk.imports ?? []) keys.add(imported);
	}
	const chunks = [...keys].map((key) => manifest[key]!.file);
	const text = (file: string) => readFileSync(`${client}/${file}`, 'latin1');
	// Markers that no longer find ts-mls where it is could not find it in the first load either.
	const code = chunks.map(text).join('\n');
	const lost = MLS_MARKERS.find((marker) => !code.includes(marker));
	if (lost !== undefined) {
		throw new Error(`no encryption chunk holds "${lost}": ts-mls changed, update MLS_MARKERS`);
	}
	const firstLoad = page.files.map((s) => s.file);
	const files = chunks.filter((file) => !firstLoad.includes(file));
	const mlsInFirstLoad = firstLoad.filter((file) => {
		const source = text(file);
		return MLS_MARKERS.some((marker) => source.includes(marker));
	});
	return { module: ENCRYPTION_MODULE, ...bySize(files.map(measureFile)), mlsInFirstLoad };
}

export const kb = (bytes: number): string => (bytes / 1000).toFixed(1);

export function withinBudget(size: RoomPageSize): boolean {
	return size.gzip <= size.budgetKb * 1000;
}

export function describeSize(size: RoomPageSize): string {
	const verdict = withinBudget(size) ? 'within' : 'OVER';
	return `Room page (${size.route}) initial JavaScript: ${kb(size.gzip)} kB gzipped in ${size.files.length} files, ${verdict} the ${size.budgetKb} kB budget.`;
}

export function describeEncryption(size: EncryptionSize): string[] {
	const lines = [
		`Encryption code (${size.module} and its imports), loaded when an encrypted conversation opens: ${kb(size.gzip)} kB gzipped in ${size.files.length} files, not counted in the budget.`
	];
	if (size.mlsInFirstLoad.length > 0) {
		lines.push(`ts-mls is in the room page's first load: ${size.mlsInFirstLoad.join(', ')}`);
	}
	return lines;
}
