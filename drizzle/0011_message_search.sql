ALTER TABLE `rooms` ADD `search_key` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `rooms_search_key_unique` ON `rooms` (`search_key`);--> statement-breakpoint
-- Written by hand from here: drizzle cannot model a virtual table, its triggers or a view.
--
-- The search index over message history (`src/lib/server/search`). A message's entry has the
-- rowid `rooms.search_key * 2^32 + seq`, so each room's entries are one contiguous range and a
-- search reads only the ranges of the rooms the person may read. Kept in step with `messages` by
-- the triggers below, whatever writes the row (the room's flush, an account's deletion, a room's).
-- What a message contributes is said once, in the view `message_search_source`. The tokenizer
-- keeps letters and digits of every script and symbols (emoji) too, which its default drops.
CREATE VIRTUAL TABLE `message_search` USING fts5(
	body,
	files,
	tags,
	tokenize = 'unicode61 remove_diacritics 2 categories ''L* N* Co So''',
	prefix = '2 3'
);
--> statement-breakpoint
-- What the index holds of a message: its text, its files' names, and the words its filters
-- match (`from<sender id>`, `hasfile`, `has<kind>`, `haslink`). System messages and deleted ones
-- have no entry.
CREATE VIEW `message_search_source` AS
SELECT r.search_key * 4294967296 + m.seq AS key,
       m.room_id AS room_id,
       m.seq AS seq,
       m.body AS body,
       coalesce((SELECT group_concat(a.value ->> 'name', ' ') FROM json_each(m.attachments) AS a), '') AS files,
       trim(
         coalesce('from' || m.sender_id, '')
         || coalesce((SELECT ' hasfile ' || group_concat(DISTINCT 'has' || (a.value ->> 'kind'))
                        FROM json_each(m.attachments) AS a), '')
         || iif(instr(m.body, '://') > 0, ' haslink', '')
       ) AS tags
  FROM messages AS m
  JOIN rooms AS r ON r.id = m.room_id
 WHERE m.kind = 'text' AND m.deleted_at IS NULL AND r.search_key IS NOT NULL;
--> statement-breakpoint
UPDATE `rooms` SET `search_key` = rowid WHERE `search_key` IS NULL;
--> statement-breakpoint
CREATE TRIGGER `rooms_search_key` AFTER INSERT ON `rooms` WHEN new.search_key IS NULL
BEGIN
	UPDATE rooms SET search_key = (SELECT coalesce(max(search_key), 0) + 1 FROM rooms) WHERE id = new.id;
END;
--> statement-breakpoint
CREATE TRIGGER `rooms_search_forget` BEFORE DELETE ON `rooms`
BEGIN
	DELETE FROM message_search
	 WHERE rowid BETWEEN old.search_key * 4294967296 AND old.search_key * 4294967296 + 4294967295;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_search_insert` AFTER INSERT ON `messages`
BEGIN
	INSERT INTO message_search (rowid, body, files, tags)
	SELECT key, body, files, tags FROM message_search_source WHERE room_id = new.room_id AND seq = new.seq;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_search_update` AFTER UPDATE OF body, attachments, deleted_at, kind ON `messages`
WHEN old.body IS NOT new.body OR old.attachments IS NOT new.attachments
  OR old.deleted_at IS NOT new.deleted_at OR old.kind IS NOT new.kind
BEGIN
	DELETE FROM message_search
	 WHERE rowid = (SELECT search_key * 4294967296 + old.seq FROM rooms WHERE id = old.room_id);
	INSERT INTO message_search (rowid, body, files, tags)
	SELECT key, body, files, tags FROM message_search_source WHERE room_id = new.room_id AND seq = new.seq;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_search_delete` AFTER DELETE ON `messages`
BEGIN
	DELETE FROM message_search
	 WHERE rowid = (SELECT search_key * 4294967296 + old.seq FROM rooms WHERE id = old.room_id);
END;
--> statement-breakpoint
INSERT INTO message_search (rowid, body, files, tags)
SELECT key, body, files, tags FROM message_search_source;
