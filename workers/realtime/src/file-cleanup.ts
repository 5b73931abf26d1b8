// The cleanup job: the realtime worker's cron (`[triggers]` in wrangler.toml) deletes the files
// nobody can use any more, working through D1's `files` rows:
// - files whose room is gone (`room_id` null: deleting a room, or the uploader's account, sets it);
// - uploads no message carries once they are `UNATTACHED_FILE_MAX_AGE_MS` old (rooms stop letting
//   a send attach them earlier, see `shared/files.ts`);
// - profile pictures and room icons no person or room names any more (replaced, or their account
//   or room deleted) once they are `UNUSED_PICTURE_MAX_AGE_MS` old.
// Each file goes by `deleteStoredFiles`: its R2 object first, then its row. A run that fails stops
// there and leaves the rest (and the failed batch's rows) to the next run; nothing is lost, as a
// row is only deleted after its object.
import { and, eq, isNull, lt, ne, notExists, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { files, rooms, users } from '../../../shared/db/schema';
import { UNATTACHED_FILE_MAX_AGE_MS, UNUSED_PICTURE_MAX_AGE_MS } from '../../../shared/files';
import { PURGE_BATCH, deleteStoredFiles, type FileStores } from './room-files';

/**
 * How much one run does, at most: `batches` batches of `batchSize` files (a batch binds its ids in
 * one statement, and D1 binds at most 100 values). Each batch is four calls to D1 and R2, so the
 * defaults (10 × 50: 500 files, 40 calls) stay well under a Worker invocation's subrequest limit;
 * with a run every 15 minutes that is 48,000 files a day. What is left waits for the next run.
 */
export type CleanupBounds = { batches: number; batchSize: number };
export const CLEANUP_BOUNDS: CleanupBounds = { batches: 10, batchSize: PURGE_BATCH };

export type CleanupResult = { roomless: number; unattached: number; unused: number };

/**
 * One run of the cleanup at `now`: room-less files first, then expired uploads, within `bounds`.
 * Throws if D1 or R2 fails, after logging what it had deleted; the rows it did not delete stay
 * for the next run.
 */
export async function cleanUpFiles(
	stores: FileStores,
	now: number,
	bounds: CleanupBounds = CLEANUP_BOUNDS
): Promise<CleanupResult> {
	const result: CleanupResult = { roomless: 0, unattached: 0, unused: 0 };
	const orm = drizzle(stores.db);
	const attachment = eq(files.purpose, 'attachment');
	const kinds: [keyof CleanupResult, SQL][] = [
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
				notExists(orm.select({ id: users.id }).from(users).where(eq(users.avatarKey, files.id))),
				notExists(orm.select({ id: rooms.id }).from(rooms).where(eq(rooms.iconKey, files.id)))
			)!
		]
	];
	let batches = bounds.batches;
	try {
		for (const [kind, condition] of kinds) {
			while (batches > 0) {
				batches--;
				const ids = (
					await orm.select({ id: files.id }).from(files).where(condition).limit(bounds.batchSize)
				).map((row) => row.id);
				if (ids.length === 0) break;
				result[kind] += await deleteStoredFiles(stores.db, stores.bucket, ids);
				if (ids.length < bounds.batchSize) break;
			}
		}
	} catch (err) {
		logSummary(result, 'then failed; the rest waits for the next run');
		throw err;
	}
	logSummary(result);
	return result;
}

/** One line, and only when something was deleted. */
function logSummary({ roomless, unattached, unused }: CleanupResult, tail = ''): void {
	const total = roomless + unattached + unused;
	if (total === 0) return;
	const line =
		`file cleanup: deleted ${total} ${total === 1 ? 'file' : 'files'} ` +
		`(${roomless} without a room, ${unattached} never attached, ${unused} unused pictures)`;
	console.log(tail ? `${line}, ${tail}` : line);
}
