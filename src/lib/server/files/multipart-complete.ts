// Completing an upload in parts (see multipart.ts): R2 joins the parts, D1 gets the file's row in
// place of the upload's, and the room is told, as after a single upload. The file takes the
// upload's id, so completing twice finds the same file.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { files, uploads } from '$shared/db/schema';
import {
	NOT_CREATED,
	isNoSuchUpload,
	noSuchUpload,
	ownUpload,
	partCount,
	partLength,
	partsOf,
	uploadExists
} from './multipart';
import { refuseFile, type FileDone } from './refusal';
import { shareWithRoom, type RoomFileDeps } from './room';
import {
	describeFile,
	insertWithinQuotaStatement,
	overQuota,
	type FileInfo,
	type FileStoreDeps,
	type StoredFile
} from './store';

export type CompleteDeps = FileStoreDeps & { rooms: RoomFileDeps['rooms'] };

/**
 * Completes an upload: every part must be there; R2 joins them, then one D1 batch writes the
 * file's row (re-checking the quota, without counting this upload twice) and deletes the upload's
 * rows; then the room is told, as after a single upload. `created` is false when the upload had
 * already been completed: the answer is the same file (its id is the upload's), so a completion
 * whose answer was lost can be asked again.
 */
export async function completeUpload(
	deps: CompleteDeps,
	uploaderId: string,
	uploadId: string
): Promise<FileDone<{ file: FileInfo; created: boolean }>> {
	const { db, bucket, limits } = deps;
	const upload = await ownUpload(db, uploaderId, uploadId);
	if (!upload) return completedBefore(db, uploaderId, uploadId);
	if (upload.r2UploadId === NOT_CREATED || !upload.type || !upload.kind) {
		return refuseFile(400, 'bad_input', 'No part of this file has arrived yet.');
	}
	const parts = await partsOf(db, uploadId);
	const have = new Map(parts.map((p) => [p.partNumber, p]));
	const missing: number[] = [];
	for (let n = 1; n <= partCount(upload.size, upload.partSize); n++) {
		if (have.get(n)?.size !== partLength(upload, n)) missing.push(n);
	}
	if (missing.length > 0) {
		const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ', …' : '');
		return refuseFile(
			400,
			'bad_input',
			`Some parts have not arrived (${shown}); send them, then complete.`
		);
	}

	try {
		await bucket
			.resumeMultipartUpload(upload.r2Key, upload.r2UploadId)
			.complete(parts.map(({ partNumber, etag }) => ({ partNumber, etag })));
	} catch (err) {
		// A completion at the same time got there first, or an abort: answer as it left things;
		// while the other completion is still writing its row, ask to be asked again.
		if (!(await uploadExists(db, uploadId))) return completedBefore(db, uploaderId, uploadId);
		if (!isNoSuchUpload(err)) throw err;
		// R2 finished it: another completion is writing the row now (the object is there), or one
		// failed after R2 and deleted the object again, leaving this row to discard.
		if (await bucket.head(upload.r2Key)) {
			return refuseFile(503, 'unavailable', 'This file is being completed. Try again in a moment.');
		}
		await db.delete(uploads).where(eq(uploads.id, upload.id));
		return noSuchUpload();
	}

	const shown = upload.kind === 'image' || upload.kind === 'video';
	const file: StoredFile = {
		id: upload.id,
		r2Key: upload.r2Key,
		uploaderId,
		roomId: upload.roomId,
		name: upload.name,
		type: upload.type,
		kind: upload.kind,
		size: upload.size,
		width: shown ? upload.width : null,
		height: shown ? upload.height : null,
		placeholder: shown ? upload.placeholder : null,
		createdAt: Date.now(),
		messageSeq: null,
		purpose: 'attachment'
	};
	let inserted: boolean;
	try {
		const [insert] = await db.batch([
			insertWithinQuotaStatement(db, file, limits.quotaBytes, upload.id),
			db
				.delete(uploads)
				.where(
					and(
						eq(uploads.id, upload.id),
						sql`exists (select 1 from ${files} where ${files.id} = ${upload.id})`
					)
				)
		]);
		inserted = insert.meta.changes === 1;
	} catch (err) {
		// The object exists but no row names it: delete it. The upload's row stays, and the
		// cleanup job deletes it (its R2 upload is completed, so aborting it finds nothing).
		await bucket.delete(upload.r2Key);
		throw err;
	}
	if (!inserted) {
		if (!(await uploadExists(db, uploadId))) return completedBefore(db, uploaderId, uploadId);
		// Over the quota (it was lowered since the start): nothing is kept.
		await bucket.delete(upload.r2Key);
		await db.delete(uploads).where(eq(uploads.id, upload.id));
		return overQuota(limits);
	}
	const info = describeFile(file);
	const shared = await shareWithRoom(deps, upload.roomId!, uploaderId, info);
	if (!shared.ok) return shared;
	return { ok: true, file: info, created: true };
}

/** The file an earlier completion of `uploadId` made, if the uploader may still send to its room. */
async function completedBefore(
	db: Db,
	uploaderId: string,
	uploadId: string
): Promise<FileDone<{ file: FileInfo; created: boolean }>> {
	const [file] = await db
		.select()
		.from(files)
		.where(
			and(eq(files.id, uploadId), eq(files.uploaderId, uploaderId), eq(files.purpose, 'attachment'))
		)
		.limit(1);
	if (!file?.roomId) return noSuchUpload();
	const access = await authorizeRoom(db, uploaderId, file.roomId, 'read');
	if (!access.ok) return noSuchUpload();
	return { ok: true, file: describeFile(file), created: false };
}
