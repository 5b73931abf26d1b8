// The message search index (migration 0011) and backups. D1's `wrangler d1 export` refuses a
// database that holds an FTS5 table, locally as remotely, so a portable backup is taken without it:
//
//   search-index.ts drop    --local [--persist-to DIR] | --remote
//   search-index.ts rebuild --local [--persist-to DIR] | --remote
//   search-index.ts export FILE --local [--persist-to DIR] | --remote
//
// `drop` removes the index: the triggers that write to it, the view it reads, the FTS5 table.
// `rebuild` drops it if present and makes it again with the SQL of migration 0011's hand-written
// part, read from the migration itself (the index has one definition), which ends by indexing
// every message. `export` drops the index, exports the database to FILE, and rebuilds the index
// whether or not the export worked; FILE is then reordered so that it imports (every table is
// created before the first row is inserted). Restoring: `wrangler d1 execute DB --file FILE` into
// an empty database, then `rebuild`. See "Backups and restore" in the README.
//
// Everything goes through the wrangler CLI (`wrangler d1 execute DB ... --file`, `wrangler d1
// export`), so the same commands serve a local database and the deployed one.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
	copyFileSync,
	createReadStream,
	createWriteStream,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	renameSync,
	rmSync,
	symlinkSync,
	writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const MIGRATION = path.join(ROOT, 'drizzle/0011_message_search.sql');
const HAND_WRITTEN = '-- Written by hand from here';
/** The project's wrangler CLI, what `npx wrangler` runs, without npx's second of start-up. */
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
/** The D1 binding, as `wrangler.toml` names it. */
const BINDING = 'DB';

/** Which database: the local one (wrangler's default state, or `--persist-to`), or the deployed one. */
export type Target = { remote: true } | { remote: false; persistTo?: string };

type SchemaObject = { kind: 'table' | 'view' | 'trigger'; name: string; sql: string };

/**
 * Splits SQL into statements the way SQLite reads them: a `;` ends a statement unless it is inside
 * a string, a quoted name, a comment, or a trigger's `BEGIN ... END` (where `CASE ... END` nests).
 * Text is pushed in whole lines, so a word never straddles two pushes; a string may. Each statement
 * comes out with its `;` and without the comments before it.
 */
export class StatementSplitter {
	#buffer = '';
	/** What closes the string or comment the text is in: a quote, `]`, `*\/`, or a line's end. */
	#closer: string | null = null;
	#depth = 0;
	/** The statement's first three words, upper-cased: enough to know a trigger. */
	#words: string[] = [];

	push(text: string): string[] {
		const done: string[] = [];
		let from = 0;
		let i = 0;
		while (i < text.length) {
			if (this.#closer) {
				const close = text.indexOf(this.#closer, i);
				if (close === -1) break;
				i = close + this.#closer.length;
				this.#closer = null;
				continue;
			}
			const c = text[i]!;
			const next = text[i + 1];
			if (c === "'" || c === '"' || c === '`' || c === '[') {
				this.#closer = c === '[' ? ']' : c;
				i += 1;
			} else if ((c === '-' && next === '-') || (c === '/' && next === '*')) {
				this.#closer = c === '-' ? '\n' : '*/';
				i += 2;
			} else if (/[A-Za-z_]/.test(c)) {
				const word = /[A-Za-z_][A-Za-z0-9_$]*/y;
				word.lastIndex = i;
				const upper = word.exec(text)![0].toUpperCase();
				i = word.lastIndex;
				if (this.#words.length < 3) this.#words.push(upper);
				if (this.#inTrigger()) {
					if (upper === 'BEGIN' || upper === 'CASE') this.#depth += 1;
					else if (upper === 'END' && this.#depth > 0) this.#depth -= 1;
				}
			} else if (c === ';' && this.#depth === 0) {
				const statement = stripLeadingComments(this.#buffer + text.slice(from, i + 1)).trim();
				if (statement !== ';') done.push(statement);
				this.#buffer = '';
				this.#words = [];
				from = i + 1;
				i += 1;
			} else {
				i += 1;
			}
		}
		this.#buffer += text.slice(from);
		return done;
	}

	/** What is left after the last `;`, if it is more than comments. */
	end(): string[] {
		const rest = stripLeadingComments(this.#buffer).trim();
		this.#buffer = '';
		this.#words = [];
		this.#depth = 0;
		this.#closer = null;
		return rest ? [rest] : [];
	}

	#inTrigger(): boolean {
		const [first, second, third] = this.#words;
		if (first !== 'CREATE') return false;
		return (
			second === 'TRIGGER' || ((second === 'TEMP' || second === 'TEMPORARY') && third === 'TRIGGER')
		);
	}
}

export function splitStatements(sql: string): string[] {
	const splitter = new StatementSplitter();
	const statements = sql.split(/(?<=\n)/).flatMap((line) => splitter.push(line));
	return [...statements, ...splitter.end()];
}

function stripLeadingComments(text: string): string {
	let rest = text.trimStart();
	for (;;) {
		if (rest.startsWith('--')) {
			const close = rest.indexOf('\n');
			rest = close === -1 ? '' : rest.slice(close + 1).trimStart();
		} else if (rest.startsWith('/*')) {
			const close = rest.indexOf('*/');
			rest = close === -1 ? '' : rest.slice(close + 2).trimStart();
		} else return rest;
	}
}

/** The SQL of migration 0011 after its `-- Written by hand from here` line. */
export function handWrittenPart(migration = MIGRATION): string {
	const text = readFileSync(migration, 'utf8');
	const at = text.indexOf(HAND_WRITTEN);
	if (at === -1) throw new Error(`${migration} has no line "${HAND_WRITTEN}"`);
	const lineEnd = text.indexOf('\n', at);
	return lineEnd === -1 ? '' : text.slice(lineEnd + 1);
}

/** The virtual tables, views and triggers the hand-written part creates, in its order. */
function createdObjects(part: string): SchemaObject[] {
	const objects: SchemaObject[] = [];
	for (const sql of splitStatements(part)) {
		const m =
			/^CREATE\s+(VIRTUAL\s+TABLE|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"[]?([A-Za-z_][A-Za-z0-9_]*)/i.exec(
				sql
			);
		if (!m) continue;
		const kind = m[1]!.toUpperCase().startsWith('VIRTUAL') ? 'table' : m[1]!.toLowerCase();
		objects.push({ kind: kind as SchemaObject['kind'], name: m[2]!, sql });
	}
	return objects;
}

function mentions(sql: string, name: string): boolean {
	return new RegExp(`(^|[^A-Za-z0-9_])${name}($|[^A-Za-z0-9_])`).test(sql);
}

function dropStatement(object: SchemaObject): string {
	const kind = object.kind === 'table' ? 'TABLE' : object.kind.toUpperCase();
	return `DROP ${kind} IF EXISTS \`${object.name}\`;`;
}

/** Triggers first (they name the view and the table), then views, then the virtual tables. */
function inDropOrder(objects: SchemaObject[]): SchemaObject[] {
	const rank = { trigger: 0, view: 1, table: 2 } as const;
	return [...objects].sort((a, b) => rank[a.kind] - rank[b.kind]);
}

/**
 * The SQL that removes the index and what depends on it: the FTS5 table, the view, and the
 * triggers that write to either. A trigger that does not touch them stays (`rooms_search_key`
 * keeps giving new rooms their number while the index is away, so the rebuild has nothing to fix).
 */
export function dropSql(part = handWrittenPart()): string {
	const objects = createdObjects(part);
	const index = objects.filter((o) => o.kind !== 'trigger');
	const dependent = objects.filter(
		(o) => o.kind !== 'trigger' || index.some((x) => mentions(o.sql, x.name))
	);
	return inDropOrder(dependent).map(dropStatement).join('\n') + '\n';
}

/**
 * The SQL that makes the index afresh: drops every object the hand-written part creates (those
 * present; this also clears a half-made index), then runs the part as the migration has it, which
 * ends with the statement that indexes every existing message.
 */
export function rebuildSql(part = handWrittenPart()): string {
	const objects = createdObjects(part);
	const statements = splitStatements(part);
	const last = statements.at(-1) ?? '';
	const tables = objects.filter((o) => o.kind === 'table').map((o) => o.name);
	if (!/^INSERT\s+INTO\s/i.test(last) || !tables.some((name) => mentions(last, name))) {
		throw new Error(`${MIGRATION}'s hand-written part no longer ends with the index's backfill`);
	}
	return `${inDropOrder(objects).map(dropStatement).join('\n')}\n${part}`;
}

/** The statements of a file, read a line at a time (an export can be larger than memory allows). */
async function* statementsOf(file: string): AsyncGenerator<string> {
	const splitter = new StatementSplitter();
	const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
	for await (const line of lines) yield* splitter.push(`${line}\n`);
	yield* splitter.end();
}

const isPragma = (s: string) => /^PRAGMA\s/i.test(s);
const isCreateTable = (s: string) => /^CREATE\s+TABLE\s/i.test(s);

/**
 * Rewrites a D1 export so that it imports: its `PRAGMA`s, then every `CREATE TABLE`, then the rest
 * in the order it came. The export writes each table's rows right after the table, so a row whose
 * foreign key names a table defined further down fails with "no such table" (workers-sdk #5683).
 */
export async function reorderForImport(file: string): Promise<void> {
	const head: string[] = [];
	for await (const s of statementsOf(file)) if (isPragma(s) || isCreateTable(s)) head.push(s);
	head.sort((a, b) => Number(isCreateTable(a)) - Number(isCreateTable(b)));
	const temporary = `${file}.reordered`;
	const out = createWriteStream(temporary);
	const write = (text: string) =>
		out.write(text) ? Promise.resolve() : once(out, 'drain').then(() => undefined);
	try {
		for (const s of head) await write(`${s}\n`);
		for await (const s of statementsOf(file)) {
			if (!isPragma(s) && !isCreateTable(s)) await write(`${s}\n`);
		}
		out.end();
		await finished(out);
	} catch (error) {
		out.destroy();
		rmSync(temporary, { force: true });
		throw error;
	}
	renameSync(temporary, file);
}

function wrangler(args: string[], options: { quiet?: boolean } = {}): void {
	const result = spawnSync(process.execPath, [WRANGLER, ...args], {
		cwd: ROOT,
		stdio: ['inherit', options.quiet ? 'pipe' : 'inherit', 'inherit'],
		env: { WRANGLER_SEND_METRICS: 'false', ...process.env }
	});
	if (result.status !== 0) {
		if (options.quiet && result.stdout) process.stdout.write(result.stdout);
		throw new Error(`wrangler ${args.slice(0, 3).join(' ')} failed (exit ${result.status})`);
	}
}

function where(target: Target): string[] {
	if (target.remote) return ['--remote'];
	return target.persistTo ? ['--local', '--persist-to', target.persistTo] : ['--local'];
}

/** Runs SQL against the database with `wrangler d1 execute --file`, from a file of its own. */
export function execute(target: Target, sql: string): void {
	const dir = mkdtempSync(path.join(tmpdir(), 'parley-search-'));
	try {
		const file = path.join(dir, 'statements.sql');
		writeFileSync(file, sql);
		const args = ['d1', 'execute', BINDING, ...where(target), '--file', file];
		wrangler(target.remote ? [...args, '--yes'] : args, { quiet: !target.remote });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

export function drop(target: Target): void {
	execute(target, dropSql());
}

export function rebuild(target: Target): void {
	execute(target, rebuildSql());
}

/**
 * `wrangler d1 export` into `output`. Its `--local` reads only wrangler's default state next to the
 * config (it has no `--persist-to`), so for another folder it runs on a copy of `wrangler.toml` in
 * a scratch folder whose `.wrangler/state` is that folder.
 */
function exportDatabase(target: Target, output: string): void {
	if (target.remote) {
		wrangler(['d1', 'export', BINDING, '--remote', '--output', output, '--skip-confirmation']);
		return;
	}
	if (!target.persistTo) {
		wrangler(['d1', 'export', BINDING, '--local', '--output', output]);
		return;
	}
	const scratch = mkdtempSync(path.join(tmpdir(), 'parley-export-'));
	try {
		mkdirSync(path.join(scratch, '.wrangler'));
		symlinkSync(path.resolve(target.persistTo), path.join(scratch, '.wrangler/state'), 'junction');
		copyFileSync(path.join(ROOT, 'wrangler.toml'), path.join(scratch, 'wrangler.toml'));
		const config = path.join(scratch, 'wrangler.toml');
		wrangler(['d1', 'export', BINDING, '--local', '--output', output, '-c', config]);
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
}

/** `rebuild`, saying loudly when it fails that search is down until it is run again. */
function rebuildOrSay(target: Target): void {
	try {
		rebuild(target);
	} catch (error) {
		const again = `npm run search:rebuild -- ${where(target).join(' ')}`;
		console.error(`The search index is NOT back: run \`${again}\`.`);
		throw error;
	}
}

/**
 * Drops the index, exports the database to `output`, and rebuilds the index even when the drop or
 * the export failed. Search answers with errors in between, and messages written then are indexed
 * by the rebuild's backfill.
 */
export async function exportWithoutIndex(target: Target, output: string): Promise<void> {
	const file = path.resolve(output);
	try {
		drop(target);
		exportDatabase(target, file);
	} finally {
		rebuildOrSay(target);
	}
	await reorderForImport(file);
}

async function main(argv: string[]): Promise<void> {
	const { values, positionals } = parseArgs({
		args: argv,
		allowPositionals: true,
		options: {
			local: { type: 'boolean' },
			remote: { type: 'boolean' },
			'persist-to': { type: 'string' }
		}
	});
	const [command, file] = positionals;
	const usage =
		'usage: search-index.ts drop|rebuild|export FILE (--local [--persist-to DIR] | --remote)';
	if (!values.local === !values.remote || (values.remote && values['persist-to'])) {
		throw new Error(`say --local or --remote\n${usage}`);
	}
	const persistTo = values['persist-to'] && path.resolve(values['persist-to']);
	const target: Target = values.remote ? { remote: true } : { remote: false, persistTo };
	const name = target.remote
		? 'the remote database'
		: `the local database${persistTo ? ` in ${persistTo}` : ''}`;
	if (command === 'drop' && positionals.length === 1) {
		drop(target);
		console.log(`Dropped the search index of ${name}.`);
	} else if (command === 'rebuild' && positionals.length === 1) {
		rebuild(target);
		console.log(`Rebuilt the search index of ${name}.`);
	} else if (command === 'export' && file && positionals.length === 2) {
		await exportWithoutIndex(target, file);
		console.log(`Exported ${name} to ${path.resolve(file)}; its search index is back.`);
	} else {
		throw new Error(usage);
	}
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	try {
		await main(process.argv.slice(2));
	} catch (error) {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	}
}
