// The backup and restore path the README documents ("Backups and restore"), run for real with the
// wrangler CLI on two local databases in a scratch folder (never the dev or e2e state): migrate and
// fill one, `npm run db:export` it, import the file into an empty one, `npm run search:rebuild`
// there, and search it. `wrangler d1 export` refuses a database with the FTS5 index, so the export
// has to go without it and put it back, also when the export fails. No browser, and nothing asks
// the app server (Playwright starts it for the whole suite all the same).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const env = {
	...process.env,
	WRANGLER_SEND_METRICS: 'false',
	CLOUDFLARE_CF_FETCH_ENABLED: 'false'
};

/** Runs a command from the project's root; a failure throws with what the command printed. */
function run(command: string, args: string[]): string {
	try {
		return execFileSync(command, args, { cwd: ROOT, env, encoding: 'utf8', stdio: 'pipe' });
	} catch (error) {
		const { stdout, stderr } = error as { stdout?: string; stderr?: string };
		throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, {
			cause: error
		});
	}
}

function wrangler(args: string[]): string {
	// What `npx wrangler` runs, without npx's second of start-up: the test runs wrangler often.
	return run(process.execPath, ['node_modules/wrangler/bin/wrangler.js', ...args]);
}

/** Runs SQL (statements separated by `;`) on a local database; the rows of each statement. */
function query(persistTo: string, sql: string): Record<string, unknown>[][] {
	const out = wrangler([
		'd1',
		'execute',
		'DB',
		'--local',
		'--persist-to',
		persistTo,
		'--json',
		'--command',
		sql
	]);
	return (JSON.parse(out) as { results: Record<string, unknown>[] }[]).map((r) => r.results);
}

/** The SQL of a search: `room:seq` of each message the index finds, in key order. */
function hitsSql(expression: string): string {
	return `SELECT m.room_id || ':' || m.seq AS hit FROM message_search AS f
	          JOIN rooms AS r ON r.search_key = f.rowid >> 32
	          JOIN messages AS m ON m.room_id = r.id AND m.seq = (f.rowid & 4294967295)
	         WHERE message_search MATCH '${expression.replaceAll("'", "''")}' ORDER BY f.rowid`;
}

const MIGRATIONS = 'SELECT id, name FROM d1_migrations ORDER BY id';
const ENTRIES = 'SELECT rowid, body, files, tags FROM message_search ORDER BY rowid';

type Snapshot = { hits: string[][]; migrations: unknown; entries: unknown };

/**
 * Runs `before` (statements to run first, or nothing), then the searches, and reads the applied
 * migrations and the whole index: one wrangler run, as each costs a second or two.
 */
function snapshot(persistTo: string, searches: string[], before = ''): Snapshot {
	const selects = [...searches.map(hitsSql), MIGRATIONS, ENTRIES];
	const results = query(
		persistTo,
		[before.trim().replace(/;$/, ''), ...selects].filter(Boolean).join(';\n')
	).slice(-selects.length);
	return {
		hits: results.slice(0, searches.length).map((rows) => rows.map((row) => String(row.hit))),
		migrations: results.at(-2),
		entries: results.at(-1)
	};
}

const attachment = JSON.stringify([
	{ id: 'f1', name: 'floorplan.pdf', type: 'application/pdf', kind: 'document', size: 1024 }
]);

// Rows as the app writes them (schema.ts: NOT NULL columns, foreign keys to users and rooms). The
// system message and the deleted one are there to show that the rebuilt index leaves them out.
const seed = `
INSERT INTO users (id, email, username, username_key, display_name, created_at)
  VALUES ('u1', 'alice@example.test', 'alice', 'alice', 'Alice', 1000),
         ('u2', 'bob@example.test', 'bob', 'bob', 'Bob', 1000);
INSERT INTO rooms (id, kind, name, created_by, created_at) VALUES ('lounge', 'group', 'Lounge', 'u1', 1000);
INSERT INTO rooms (id, kind, name, created_by, created_at) VALUES ('cafe', 'public', 'Café', 'u2', 1001);
INSERT INTO memberships (room_id, user_id, role, joined_at)
  VALUES ('lounge', 'u1', 'owner', 1000), ('lounge', 'u2', 'member', 1000), ('cafe', 'u2', 'owner', 1001);
INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, created_at)
  VALUES ('lounge', 1, 'u1', 'c1', 'text', 'The zebra crossing is closed today', 2000),
         ('lounge', 2, NULL, 'sys-2', 'system', 'zebra joined the room', 2001),
         ('lounge', 4, 'u1', 'c4', 'text', 'a zebra that was deleted', 2003);
INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, created_at, attachments)
  VALUES ('lounge', 3, 'u2', 'c3', 'text', 'Plans at https://example.test/plans', 2002, '${attachment}');
INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, created_at)
  VALUES ('cafe', 1, 'u2', 'c1', 'text', 'Café crème, it''s on me', 2004),
         ('cafe', 2, 'u2', 'c2', 'text', 'semicolons; END; -- "quotes" [x] \`ticks\` 🦓
a second line', 2005);
UPDATE messages SET deleted_at = 2005 WHERE room_id = 'lounge' AND seq = 4;
`;

const queries = ['zebra', 'floorplan', 'haslink', 'fromu2', 'cafe', 'creme', 'semicolons', '"🦓"'];
const expected = [
	['lounge:1'],
	['lounge:3'],
	['lounge:3'],
	['lounge:3', 'cafe:1', 'cafe:2'],
	['cafe:1'],
	['cafe:1'],
	['cafe:2'],
	['cafe:2']
];

test('a database exported without its search index and restored elsewhere searches again', async () => {
	// About 30 s: some twenty wrangler runs of a second or two each. Room for a busy machine.
	test.setTimeout(120_000);
	const dir = mkdtempSync(path.join(tmpdir(), 'parley-backup-'));
	const source = path.join(dir, 'source');
	const restored = path.join(dir, 'restored');
	const backup = path.join(dir, 'backup.sql');
	const exportTo = (file: string) =>
		run('npm', ['run', '-s', 'db:export', '--', file, '--local', '--persist-to', source]);
	const rebuild = () =>
		run('npm', ['run', '-s', 'search:rebuild', '--', '--local', '--persist-to', restored]);
	try {
		wrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', source]);
		const original = snapshot(source, queries, seed);
		expect(original.hits).toEqual(expected);

		// A failed export (here: nowhere to write) still leaves the database with its index.
		expect(() => exportTo(path.join(dir, 'missing/backup.sql'))).toThrow(/failed/);
		expect(snapshot(source, queries)).toEqual(original);

		exportTo(backup);
		// The source has its index back, and the file holds none of it, nor workerd's own tables.
		expect(snapshot(source, queries)).toEqual(original);
		const dump = readFileSync(backup, 'utf8');
		expect(dump).not.toMatch(/VIRTUAL TABLE|message_search_source|"message_search/);
		expect(dump).not.toContain('_cf_');
		expect(dump).toContain(`'0011_message_search.sql'`);
		// Every table is made before the first row goes in (rows may name tables defined later).
		expect(dump.lastIndexOf('CREATE TABLE')).toBeLessThan(dump.indexOf('INSERT INTO'));

		// The restore: the file into an empty database, then the index. It finds what the source
		// finds, holds the same entries, and has the same migrations applied, none left to apply.
		wrangler(['d1', 'execute', 'DB', '--local', '--persist-to', restored, '--file', backup]);
		rebuild();
		expect(snapshot(restored, queries)).toEqual(original);
		const list = wrangler(['d1', 'migrations', 'list', 'DB', '--local', '--persist-to', restored]);
		expect(list).toContain('No migrations to apply');

		// The triggers are back: a new message, an edit, a deletion and a new room reach the index.
		const after = snapshot(
			restored,
			['zebra', 'zebra*', 'crossing', 'floorplan'],
			`INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, created_at)
			   VALUES ('lounge', 5, 'u2', 'c5', 'text', 'another zebra, after the restore', 3000);
			 UPDATE messages SET body = 'The crossing is open again', edited_at = 3001
			  WHERE room_id = 'lounge' AND seq = 1;
			 UPDATE messages SET deleted_at = 3002, attachments = NULL WHERE room_id = 'lounge' AND seq = 3;
			 INSERT INTO rooms (id, kind, name, created_by, created_at) VALUES ('zoo', 'group', 'Zoo', 'u1', 3003);
			 INSERT INTO messages (room_id, seq, sender_id, client_id, kind, body, created_at)
			   VALUES ('zoo', 1, 'u1', 'c1', 'text', 'zebras everywhere', 3004)`
		);
		expect(after.hits).toEqual([['lounge:5'], ['lounge:5', 'zoo:1'], ['lounge:1'], []]);

		// Rebuilding an index that is there changes nothing: it drops it and indexes every message.
		rebuild();
		expect(snapshot(restored, [])).toEqual({ ...after, hits: [] });
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
