// The files uploaded to this room, in its own SQLite: which ones a send may carry, which message
// carries each, and which must go because their message was deleted. The app stores a file's
// bytes (R2) and row (D1) and then tells the room (`ChatRoom.fileUploaded`), so the send path
// decides from the room's own storage and never waits for D1: a send that awaited D1 could be
// overtaken by a later send of the same socket.
//
// An upload no message carries is attachable for `UNATTACHED_FILE_CLAIM_MS` only: after a little
// longer the realtime worker's cleanup job deletes its bytes and row (`file-cleanup.ts`), so the
// room refuses it first, and forgets it.
import { drizzle } from 'drizzle-orm/d1';
import { inArray } from 'drizzle-orm';
import * as v from 'valibot';
import { Attachment } from '../../../shared/protocol';
import { files } from '../../../shared/db/schema';
import { UNATTACHED_FILE_CLAIM_MS } from '../../../shared/files';

/** Files one background deletion handles at once (D1 binds at most 100 values a statement). */
export const PURGE_BATCH = 50;

/** Where a deleted message's files live: the seams of `ChatRoom`, read when a deletion runs. */
export type FileStores = { db: D1Database; bucket: R2Bucket };

/** How often, at most, an upload also sweeps away the room's expired unattached records. */
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000;

type FileRow = {
	id: string;
	uploader_id: string;
	attachment: string;
	message_seq: number | null;
	deleting: number;
	created_at: number;
};

export class RoomFiles {
	#sql: SqlStorage;
	/** The deletion under way, if any: one at a time (see `purge`). */
	#running: Promise<unknown> | null = null;
	/** When `add` last swept expired records (in memory: a woken object sweeps on its first upload). */
	#sweptAt = 0;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
	}

	/**
	 * Records a file the app stored for this room, described as a message will carry it (unknown
	 * fields dropped). Idempotent: telling the room twice changes nothing. Also forgets, at most
	 * once an hour, the uploads that expired unattached: uploads are rarer than sends, so the
	 * send path stays one indexed read.
	 */
	add(uploaderId: string, file: Attachment, now: number): void {
		const attachment = v.parse(Attachment, file);
		if (now - this.#sweptAt >= SWEEP_INTERVAL_MS) {
			this.#sweptAt = now;
			this.#sql.exec(
				'DELETE FROM files WHERE message_seq IS NULL AND deleting = 0 AND created_at < ?',
				now - UNATTACHED_FILE_CLAIM_MS
			);
		}
		this.#sql.exec(
			`INSERT INTO files (id, uploader_id, attachment, created_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (id) DO NOTHING`,
			attachment.id,
			uploaderId,
			JSON.stringify(attachment),
			now
		);
	}

	/**
	 * The descriptions of `ids`, in their order, if every one is a file uploaded to this room by
	 * `senderId` that no message carries yet, recorded less than `UNATTACHED_FILE_CLAIM_MS` ago;
	 * null if any is not. One indexed read; a refusal for an expired upload also forgets it (the
	 * cleanup job deletes its bytes and row, or already has).
	 */
	claimable(senderId: string, ids: readonly string[], now = Date.now()): Attachment[] | null {
		const rows = this.#sql
			.exec<FileRow>(
				`SELECT id, uploader_id, attachment, message_seq, deleting, created_at FROM files
				 WHERE id IN (SELECT value FROM json_each(?))`,
				JSON.stringify(ids)
			)
			.toArray();
		const byId = new Map(rows.map((row) => [row.id, row]));
		const expired = rows.filter(
			(row) => row.message_seq === null && row.created_at < now - UNATTACHED_FILE_CLAIM_MS
		);
		if (expired.length > 0) {
			this.#sql.exec(
				'DELETE FROM files WHERE id IN (SELECT value FROM json_each(?))',
				JSON.stringify(expired.map((row) => row.id))
			);
			return null;
		}
		const attachments: Attachment[] = [];
		for (const id of ids) {
			const row = byId.get(id);
			if (!row || row.uploader_id !== senderId || row.message_seq !== null || row.deleting) {
				return null;
			}
			attachments.push(JSON.parse(row.attachment) as Attachment);
		}
		return attachments;
	}

	/**
	 * The message `seq` carries these files. Called in the same synchronous step as the message's
	 * append, so the two writes are committed together: no message without its files marked, no
	 * file marked for a message that was never stored.
	 */
	carry(ids: readonly string[], seq: number): void {
		this.#sql.exec(
			'UPDATE files SET message_seq = ? WHERE id IN (SELECT value FROM json_each(?))',
			seq,
			JSON.stringify(ids)
		);
	}

	/**
	 * The message `seq` was deleted: its files are to go. Marked in the same step as the tombstone,
	 * so a deletion that fails (or never ran: the object was evicted) is retried by the alarm.
	 * True if there was anything to mark.
	 */
	markForDeletion(seq: number): boolean {
		return (
			this.#sql.exec('UPDATE files SET deleting = 1 WHERE message_seq = ?', seq).rowsWritten > 0
		);
	}

	/**
	 * The person `uploaderId` is gone (their account was deleted): every file of theirs the room
	 * knows is to go, attached or not, marked as a deleted message's files are (the alarm retries
	 * the deletion). Answers, per message, the ids of theirs it carries, which the caller strips
	 * from it in the same synchronous step. Their unattached uploads are marked too: nobody may
	 * claim them any more (`claimable` refuses a file being deleted), and the purge that deletes
	 * their bytes forgets them. Idempotent: files already marked are not answered again. One scan
	 * of the room's files, never on the send path.
	 */
	dropUploader(uploaderId: string): Map<number, Set<string>> {
		const rows = this.#sql
			.exec<{ id: string; message_seq: number | null }>(
				`UPDATE files SET deleting = 1 WHERE uploader_id = ? AND deleting = 0
				 RETURNING id, message_seq`,
				uploaderId
			)
			.toArray();
		const carried = new Map<number, Set<string>>();
		for (const row of rows) {
			if (row.message_seq === null) continue;
			let ids = carried.get(row.message_seq);
			if (!ids) carried.set(row.message_seq, (ids = new Set()));
			ids.add(row.id);
		}
		return carried;
	}

	hasPending(): boolean {
		return this.#sql.exec('SELECT 1 FROM files WHERE deleting = 1 LIMIT 1').toArray().length > 0;
	}

	/**
	 * Deletes the marked files' R2 objects and D1 rows, a batch at a time, then forgets them. One
	 * run at a time: a caller that finds one under way waits for it, then deletes whatever is still
	 * marked (a failed run leaves its files marked). Throws when a batch fails; the alarm retries.
	 */
	async purge(stores: () => FileStores): Promise<void> {
		while (this.#running) await this.#running.catch(() => undefined);
		for (;;) {
			const ids = this.#sql
				.exec<{ id: string }>('SELECT id FROM files WHERE deleting = 1 LIMIT ?', PURGE_BATCH)
				.toArray()
				.map((row) => row.id);
			if (ids.length === 0) return;
			const { db, bucket } = stores();
			const run = deleteStoredFiles(db, bucket, ids);
			this.#running = run;
			try {
				await run;
			} finally {
				if (this.#running === run) this.#running = null;
			}
			this.#sql.exec(
				'DELETE FROM files WHERE id IN (SELECT value FROM json_each(?))',
				JSON.stringify(ids)
			);
		}
	}
}

/**
 * Deletes files: their R2 objects, then their D1 rows (the order of the app's `deleteFile`: a
 * failure in between leaves a row a retry finds, never an object nobody knows of). Idempotent:
 * files already gone are skipped. Answers how many there were to delete.
 */
export async function deleteStoredFiles(
	db: D1Database,
	bucket: R2Bucket,
	ids: string[]
): Promise<number> {
	const orm = drizzle(db);
	const rows = await orm
		.select({ id: files.id, r2Key: files.r2Key })
		.from(files)
		.where(inArray(files.id, ids));
	if (rows.length === 0) return 0;
	await bucket.delete(rows.map((row) => row.r2Key));
	await orm.delete(files).where(
		inArray(
			files.id,
			rows.map((row) => row.id)
		)
	);
	return rows.length;
}
