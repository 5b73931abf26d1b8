// The `meta` key/value table both durable objects keep in their own SQLite (who they are, marks).

export function readMeta(sql: SqlStorage, key: string): string | null {
	const row = sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0];
	return row ? row.value : null;
}

export function writeMeta(sql: SqlStorage, key: string, value: string): void {
	sql.exec(
		'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
		key,
		value
	);
}
