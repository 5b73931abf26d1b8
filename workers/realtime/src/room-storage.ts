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
	`ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';`,
	`ALTER TABLE messages ADD COLUMN reply_to_seq INTEGER;
	 ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
	 ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '{}';
	 ALTER TABLE messages ADD COLUMN edited_at INTEGER;
	 ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
	 -- The room's change counter at the row's last change: a reconnecting client asks for the
	 -- changes after the last one it saw (edits, deletions, reactions of messages it already has).
	 ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
	 UPDATE messages SET rev = seq;
	 CREATE INDEX messages_rev ON messages (rev);
	 -- Everyone who has connected (or whom the directory refresh found): mention lookup, read and
	 -- delivery positions, last seen. Presence itself lives in memory and socket attachments.
	 CREATE TABLE members (
	   user_id TEXT PRIMARY KEY,
	   username TEXT NOT NULL DEFAULT '',
	   name TEXT NOT NULL DEFAULT '',
	   share_receipts INTEGER NOT NULL DEFAULT 1,
	   read_seq INTEGER NOT NULL DEFAULT 0,
	   -- The read_seq D1 has; the flush copies read_seq while it is ahead.
	   read_flushed INTEGER NOT NULL DEFAULT 0,
	   delivered_seq INTEGER NOT NULL DEFAULT 0,
	   last_seen_at INTEGER
	 );
	 CREATE INDEX members_username ON members (username);`,
	`-- The files a message carries, as JSON (the protocol's Attachment list); null for none.
	 ALTER TABLE messages ADD COLUMN attachments TEXT;
	 -- Files uploaded to this room (the app tells the room after storing each): the room decides,
	 -- without asking D1, which files a send may carry. \`attachment\` is the description a message
	 -- stores; \`message_seq\` the message that carries it (null while unattached); \`deleting\` is set
	 -- when its message was deleted, until its R2 object and D1 row are gone (the alarm retries).
	 CREATE TABLE files (
	   id TEXT PRIMARY KEY,
	   uploader_id TEXT NOT NULL,
	   attachment TEXT NOT NULL,
	   created_at INTEGER NOT NULL,
	   message_seq INTEGER,
	   deleting INTEGER NOT NULL DEFAULT 0
	 );
	 CREATE INDEX files_message ON files (message_seq) WHERE message_seq IS NOT NULL;
	 CREATE INDEX files_deleting ON files (id) WHERE deleting = 1;`,
	`-- 1 when a bot sent it: shown as a bot's wherever the message goes.
	 ALTER TABLE messages ADD COLUMN sender_bot INTEGER NOT NULL DEFAULT 0;`,
	`-- Who deleted it, when that was not its sender (a room's owner or admin): the tombstone says it
	 -- was removed by an admin. Members the room's owner or admins timed out, until when.
	 ALTER TABLE messages ADD COLUMN deleted_by TEXT;
	 CREATE TABLE timeouts (user_id TEXT PRIMARY KEY, until INTEGER NOT NULL);
	 -- 1 when it outlived the room's retention: a tombstone clients need not show. The index finds
	 -- the oldest live messages, which expire first.
	 ALTER TABLE messages ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;
	 CREATE INDEX messages_live ON messages (seq) WHERE deleted_at IS NULL AND kind = 'text';`,
	`-- An end-to-end encrypted room's messages (kind 'sealed') expire as plain ones do; its commits
	 -- ('handshake') never do: every device needs each of them to follow the group. The welcome
	 -- that adds a device to the group waits here for it (docs/e2ee.md).
	 DROP INDEX messages_live;
	 CREATE INDEX messages_live ON messages (seq) WHERE deleted_at IS NULL AND kind IN ('text', 'sealed');
	 CREATE TABLE welcomes (device_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, welcome TEXT NOT NULL);`
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
