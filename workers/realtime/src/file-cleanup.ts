// The cleanup job: the realtime worker's cron (`[triggers]` in wrangler.toml) deletes the files
// nobody can use any more, working through D1's `files` rows:
// - files whose room is gone (`room_id` null: deleting a room, or the uploader's account, sets it);
// - uploads no message carries once they are `UNATTACHED_FILE_MAX_AGE_MS` old (rooms stop letting
//   a send attach them earlier, see `shared/files.ts`);
// - profile pictures and room icons no person or room names any more (replaced, or their account
//   or room deleted) once they are `UNUSED_PICTURE_MAX_AGE_MS` old.
// - uploads in parts left unfinished (`uploads` rows) once `UNFINISHED_UPLOAD_MAX_AGE_MS` old, or
//   at once when their room is gone: the R2 multipart upload is aborted, then the rows deleted.
// Each file goes by `deleteStoredFiles`: its R2 object first, then its row. A run that fails stops
// there and leaves the rest (and the failed batch's rows) to the next run; nothing is lost, as a
// row is only deleted after its object (or its R2 upload).
import { and, eq, inArray, isNull, lt, ne, notExists, or, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { files, rooms, uploads, users } from '../../../shared/db/schema';
import {
	UNATTACHED_FILE_MAX_AGE_MS,
	UNFINISHED_UPLOAD_MAX_AGE_MS,
	UNUSED_PICTURE_MAX_AGE_MS
} from '../../../shared/files';
import { PURGE_BATCH, deleteStoredFiles, type FileStores } from './room-files';

/**
 * How much one run does, at most: `batches` batches of `batchSize` files (a batch binds its ids in
 * one statement, and D1 binds at most 100 values). Each batch is four calls to D1 and R2, so the
 * defaults (10 × 50: 500 files, 40 calls) stay well under a Worker invocation's subrequest limit;
 * with a run every 15 minutes that is 48,000 files a day. What is left waits for the next run.
 * A lookup that finds nothing ends its kind without counting as a batch (one call per kind).
 * Unfinished uploads share the batches, but R2 aborts a multipart upload one call at a time, so
 * their batches hold at most `ABORTS_PER_BATCH` (a batch is then at most 13 calls).
 */
export type CleanupBounds = { batches: number; batchSize: number };
export const CLEANUP_BOUNDS: CleanupBounds = { batches: 10, batchSize: PURGE_BATCH };

export const ABORTS_PER_BATCH = 10;

export type CleanupResult = {
	roomless: number;
	unattached: number;
	unused: number;
	/** Uploads in parts aborted: unfinished for a day, or their room gone. */
	unfinished: number;
};

/**
 * One run of the cleanup at `now`: room-less files first, then expired uploads, unused pictures and
 * unfinished uploads in parts, within `bounds`.
 * Throws if D1 or R2 fails, after logging what it had deleted; the rows it did not delete stay
 * for the next run.
 */
export async function cleanUpFiles(
	stores: FileStores,
	now: number,
	bounds: CleanupBounds = CLEANUP_BOUNDS
): Promise<CleanupResult> {
	const result: CleanupResult = { roomless: 0, unattached: 0, unused: 0, unfinished: 0 };
	const orm = drizzle(stores.db);
	const attachment = eq(files.purpose, 'attachment');
	const kinds: [Exclude<keyof CleanupResult, 'unfinished'>, SQL][] = [
		['roomless', and(attachment, isNull(files.roomId))!],
		[
			'unattached',
			and(
				attachment,
				isNull(files.messageSeq),
				lt(files.createdAt, now - UNATTACHED_FILE_MAX_AGE_MS)
			)!
		],
		[
			'unused',
			and(
				ne(files.purpose, 'attachment'),
				lt(files.createdAt, now - UNUSED_PICTURE_MAX_AGE_MS),
				// Only its uploader can name a profile picture, and only its room an icon: each check
				// is one primary-key lookup, not a scan of every person or room.
				notExists(
					orm
						.select({ id: users.id })
						.from(users)
						.where(and(eq(users.id, files.uploaderId), eq(users.avatarKey, files.id)))
				),
				notExists(
					orm
						.select({ id: rooms.id })
						.from(rooms)
						.where(and(eq(rooms.id, files.roomId), eq(rooms.iconKey, files.id)))
				)
			)!
		]
	];
	let batches = bounds.batches;
	try {
		for (const [kind, condition] of kinds) {
			while (batches > 0) {
				const ids = (
					await orm.select({ id: files.id }).from(files).where(condition).limit(bounds.batchSize)
				).map((row) => row.id);
				if (ids.length === 0) break;
				batches--;
				result[kind] += await deleteStoredFiles(stores.db, stores.bucket, ids);
				if (ids.length < bounds.batchSize) break;
			}
		}
		const unfinished = or(
			isNull(uploads.roomId),
			lt(uploads.createdAt, now - UNFINISHED_UPLOAD_MAX_AGE_MS)
		)!;
		const uploadBatch = Math.min(bounds.batchSize, ABORTS_PER_BATCH);
		while (batches > 0) {
			const found = await abortUploads(stores, unfinished, uploadBatch);
			if (found === 0) break;
			batches--;
			result.unfinished += found;
			if (found < uploadBatch) break;
		}
	} catch (err) {
		logSummary(result, 'then failed; the rest waits for the next run');
		throw err;
	}
	logSummary(result);
	return result;
}

/** `r2_upload_id` of an upload whose first part never arrived: nothing in R2 to abort. */
const NOT_CREATED = '';

/**
 * Aborts up to `limit` uploads matching `condition`: each R2 multipart upload (one R2 no longer
 * knows is done already), then the batch's rows (their parts cascade). An object left by a
 * completion whose D1 batch failed, which no file names, is deleted too. Answers how many.
 */
async function abortUploads(stores: FileStores, condition: SQL, limit: number): Promise<number> {
	const orm = drizzle(stores.db);
	const rows = await orm
		.select({
			id: uploads.id,
			r2Key: uploads.r2Key,
			r2UploadId: uploads.r2UploadId,
			named: sql<number>`exists (select 1 from ${files} where ${files.r2Key} = ${uploads.r2Key})`
		})
		.from(uploads)
		.where(condition)
		.limit(limit);
	if (rows.length === 0) return 0;
	await Promise.all(
		rows
			.filter((row) => row.r2UploadId !== NOT_CREATED)
			.map((row) => abortR2Upload(stores.bucket, row.r2Key, row.r2UploadId))
	);
	const unnamed = rows.filter((row) => !row.named).map((row) => row.r2Key);
	if (unnamed.length > 0) await stores.bucket.delete(unnamed);
	await orm.delete(uploads).where(
		inArray(
			uploads.id,
			rows.map((row) => row.id)
		)
	);
	return rows.length;
}

/** Aborts an R2 multipart upload; R2's "NoSuchUpload" (aborted or completed before) is done. */
async function abortR2Upload(bucket: R2Bucket, key: string, uploadId: string): Promise<void> {
	try {
		await bucket.resumeMultipartUpload(key, uploadId).abort();
	} catch (err) {
		if (!(err instanceof Error && /NoSuchUpload|10024/i.test(err.message))) throw err;
	}
}

/** One line, and only when something was deleted. */
function logSummary({ roomless, unattached, unused, unfinished }: CleanupResult, tail = ''): void {
	const total = roomless + unattached + unused;
	if (total + unfinished === 0) return;
	const line =
		`file cleanup: deleted ${total} ${total === 1 ? 'file' : 'files'} ` +
		`(${roomless} without a room, ${unattached} never attached, ${unused} unused pictures), ` +
		`aborted ${unfinished} unfinished ${unfinished === 1 ? 'upload' : 'uploads'}`;
	console.log(tail ? `${line}, ${tail}` : line);
}
