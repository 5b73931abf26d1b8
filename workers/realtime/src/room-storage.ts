// The room object's own SQLite: the acknowledgement point for messages. Versioned migrations, run
// in the constructor (synchronous storage calls, so nothing interleaves with them).

const MIGRATIONS: string[] = [
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	 CREATE TABLE messages (
	   seq INTEGER PRIMARY KEY,
	   client_id TEXT NOT NULL,
	   sender_id TEXT,
	   sender_name TEXT NOT NULL,
	   body TEXT NOT NULL,
	   created_at INTEGER NOT NULL,
	   -- Bumped on every change; the flush copies a row to D1 while version > flushed_version.
	   version INTEGER NOT NULL DEFAULT 1,
	   flushed_version INTEGER NOT NULL DEFAULT 0
	 );
	 CREATE UNIQUE INDEX messages_client ON messages (sender_id, client_id);
	 CREATE INDEX messages_unflushed ON messages (seq) WHERE version > flushed_version;`,
	`ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';`
];

export function migrateRoomStorage(sql: SqlStorage): void {
	sql.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
	const row = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0];
	const current = row?.version ?? 0;
	for (let v = current; v < MIGRATIONS.length; v++) sql.exec(MIGRATIONS[v]!);
	if (!row) sql.exec('INSERT INTO schema_version (version) VALUES (?)', MIGRATIONS.length);
	else if (current !== MIGRATIONS.length) {
		sql.exec('UPDATE schema_version SET version = ?', MIGRATIONS.length);
	}
}
