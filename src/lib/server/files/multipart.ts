// Uploads in parts: large files go to R2 as a multipart upload, a part per request, so a dropped
// connection or a reload loses at most the part under way. The R2 binding cannot list an upload's
// parts, so D1 keeps them (`uploads`, `upload_parts`); the browser asks which parts the server has
// and sends the others. The rules are the single upload's (store.ts), asked through the same
// functions: the room (`read`) at the start and again on every part and on completion, the rate
// limit and the size limit at the start, the quota at the start (an open upload's declared size
// counts against it) and again when the file's row is written, the type from the first part's bytes.
//
// The R2 multipart upload is created with the first part, not at the start: the object's content
// type is fixed when the upload is created (completing it cannot set it), and only the first part
// says what the file is. Until then the row's `r2_upload_id` is empty, and later parts are refused.
// Completion is `multipart-complete.ts`.
import { and, asc, eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { generateId } from '$lib/server/ids';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { uploadParts, uploads } from '$shared/db/schema';
import { MULTIPART_PART_BYTES, SEALED_FILE } from '$shared/files';
import { describeBytes } from './limits';
import { sanitizeFileName } from './names';
import { refuseFile, type FileDone } from './refusal';
import { admitUpload, notFound, readCapped, tooLarge, type FileStoreDeps } from './store';
import { detectFileType, SEALED } from './types';
import { Pixels, UploadFields } from './upload-headers';

type Upload = typeof uploads.$inferSelect;

/** What the uploader is told of an upload: enough to send what the server does not have yet. */
export type UploadStatus = {
	id: string;
	size: number;
	partSize: number;
	parts: { partNumber: number; size: number }[];
};

/** `r2_upload_id` before the first part has arrived (the column cannot be null). */
export const NOT_CREATED = '';

/** R2 numbers parts from 1 to 10,000. */
const MAX_PARTS = 10_000;

/** The start's JSON body: the single upload's headers, as JSON, and the whole file's size. */
const StartBody = v.object({
	name: UploadFields.name,
	size: v.pipe(
		v.number('must be a number'),
		v.safeInteger('must be a whole number of bytes'),
		v.minValue(0, 'cannot be negative')
	),
	kindHint: UploadFields.kindHint,
	width: v.optional(Pixels),
	height: v.optional(Pixels),
	placeholder: UploadFields.placeholder
});

/** How many parts an upload of `size` bytes has, and how long part `n` is. */
export function partCount(size: number, partSize: number): number {
	return Math.ceil(size / partSize);
}

export function partLength(upload: Pick<Upload, 'size' | 'partSize'>, n: number): number {
	return Math.min(upload.partSize, upload.size - (n - 1) * upload.partSize);
}

function statusOf(upload: Upload, parts: { partNumber: number; size: number }[]): UploadStatus {
	return { id: upload.id, size: upload.size, partSize: upload.partSize, parts };
}

/**
 * Starts an upload in parts to a room: the single upload's checks (the room, the rate, the size,
 * the quota, which from now on counts this upload's declared size), then the row. Nothing in R2
 * yet: that waits for the first part.
 */
export async function startUpload(
	deps: Pick<FileStoreDeps, 'db' | 'limits'>,
	uploaderId: string,
	roomId: string,
	body: unknown,
	now = Date.now()
): Promise<FileDone<{ upload: UploadStatus }>> {
	const parsed = v.safeParse(StartBody, body);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const key = issue.path?.map((p) => String(p.key)).join('.');
		return refuseFile(400, 'bad_input', `${key ? `"${key}"` : 'The body'} ${issue.message}.`);
	}
	const input = parsed.output;
	const { db, limits } = deps;
	const access = await authorizeRoom(db, uploaderId, roomId, 'read');
	// Any refusal reads as a missing room, as for a single upload.
	if (!access.ok) return notFound('This room does not exist.');
	const admitted = await admitUpload(deps, uploaderId, input.size, now);
	if (!admitted.ok) return admitted;
	if (partCount(input.size, MULTIPART_PART_BYTES) > MAX_PARTS) return tooLarge(limits);

	// An encrypted room's file is ciphertext: its type is decided now, not from its first part,
	// and nothing the browser says about the file is kept (it travels encrypted).
	const sealed = access.room.encryption === 'mls';
	const upload: Upload = {
		id: generateId(),
		r2Key: `f/${generateId()}`,
		r2UploadId: NOT_CREATED,
		uploaderId,
		roomId,
		name: sealed ? SEALED_FILE.name : sanitizeFileName(input.name),
		kindHint: sealed ? null : (input.kindHint ?? null),
		size: input.size,
		partSize: MULTIPART_PART_BYTES,
		type: sealed ? SEALED.type : null,
		kind: sealed ? SEALED.kind : null,
		width: sealed ? null : (input.width ?? null),
		height: sealed ? null : (input.height ?? null),
		placeholder: sealed ? null : (input.placeholder ?? null),
		createdAt: now
	};
	await db.insert(uploads).values(upload);
	return { ok: true, upload: statusOf(upload, []) };
}

/**
 * The uploader's own upload, if its room still lets them send to it; anyone else, and a member
 * removed or banned since, is told it does not exist.
 */
export async function ownUpload(
	db: Db,
	uploaderId: string,
	uploadId: string
): Promise<Upload | null> {
	const [upload] = await db
		.select()
		.from(uploads)
		.where(and(eq(uploads.id, uploadId), eq(uploads.uploaderId, uploaderId)))
		.limit(1);
	if (!upload?.roomId) return null;
	const access = await authorizeRoom(db, uploaderId, upload.roomId, 'read');
	return access.ok ? upload : null;
}

export async function partsOf(db: Db, uploadId: string) {
	return db
		.select({ partNumber: uploadParts.partNumber, size: uploadParts.size, etag: uploadParts.etag })
		.from(uploadParts)
		.where(eq(uploadParts.uploadId, uploadId))
		.orderBy(asc(uploadParts.partNumber));
}

/** Which parts the server has, for the uploader to resume from. */
export async function uploadStatus(
	db: Db,
	uploaderId: string,
	uploadId: string
): Promise<FileDone<{ upload: UploadStatus }>> {
	const upload = await ownUpload(db, uploaderId, uploadId);
	if (!upload) return noSuchUpload();
	const parts = await partsOf(db, uploadId);
	return {
		ok: true,
		upload: statusOf(
			upload,
			parts.map(({ partNumber, size }) => ({ partNumber, size }))
		)
	};
}

export type PartInput = {
	/** The route's `[n]`, unparsed. */
	partNumber: string;
	body: ReadableStream<Uint8Array> | null;
	declaredLength: number | null;
};

/**
 * Stores part `n` of an upload: exactly `partSize` bytes, or the rest of the file for the last.
 * The first part decides the type: a type not on the allow list ends the whole upload. Sending a
 * part again replaces it (its etag in D1 with it).
 */
export async function receivePart(
	deps: Pick<FileStoreDeps, 'db' | 'bucket'>,
	uploaderId: string,
	uploadId: string,
	input: PartInput
): Promise<FileDone<{ part: { partNumber: number; size: number } }>> {
	const { db, bucket } = deps;
	let upload = await ownUpload(db, uploaderId, uploadId);
	if (!upload) return noSuchUpload();
	const count = partCount(upload.size, upload.partSize);
	const n = /^\d{1,5}$/.test(input.partNumber) ? Number(input.partNumber) : 0;
	if (n < 1 || n > count) {
		return refuseFile(
			400,
			'bad_input',
			`This upload has parts 1 to ${count}; there is no part ${input.partNumber}.`
		);
	}
	const expected = partLength(upload, n);
	const wrongSize = (got: number) =>
		got > expected
			? refuseFile(
					413,
					'too_large',
					`Part ${n} is larger than ${describeBytes(expected)}, its size in this upload.`
				)
			: refuseFile(
					400,
					'bad_input',
					`Part ${n} must be ${describeBytes(expected)} long; this one was ${describeBytes(got)}.`
				);
	if (input.declaredLength !== null && input.declaredLength !== expected) {
		return wrongSize(input.declaredLength);
	}
	const read = await readCapped(input.body, expected);
	if (!read.ok) return wrongSize(expected + 1);
	if (read.bytes.byteLength !== expected) return wrongSize(read.bytes.byteLength);

	if (n === 1) {
		const decided = await decideType(deps, upload, read.bytes);
		if (!decided.ok) return decided;
		upload = decided.upload;
	} else if (upload.r2UploadId === NOT_CREATED) {
		return refuseFile(400, 'bad_input', 'Send the first part first: it says what the file is.');
	}

	let etag: string;
	try {
		const r2Upload = bucket.resumeMultipartUpload(upload.r2Key, upload.r2UploadId);
		etag = (await r2Upload.uploadPart(n, read.bytes)).etag;
		await db
			.insert(uploadParts)
			.values({ uploadId, partNumber: n, etag, size: expected })
			.onConflictDoUpdate({
				target: [uploadParts.uploadId, uploadParts.partNumber],
				set: { etag, size: expected }
			});
	} catch (err) {
		// Aborted or completed meanwhile (R2 no longer knows the upload, or the row's foreign key
		// fails): the upload is gone. Anything else is a failure to retry.
		if (!(await uploadExists(db, uploadId))) return noSuchUpload();
		throw err;
	}
	return { ok: true, part: { partNumber: n, size: expected } };
}

/**
 * The first part: decides the type from its bytes (refusing it ends the upload), and creates the
 * R2 multipart upload with it if this is the first time. Sending the first part again must say
 * the same type. Two first parts at once (a retry while the first is under way) create one R2
 * upload: the row takes the first id written, the other is aborted.
 */
async function decideType(
	deps: Pick<FileStoreDeps, 'db' | 'bucket'>,
	upload: Upload,
	bytes: Uint8Array
): Promise<FileDone<{ upload: Upload }>> {
	const { db, bucket } = deps;
	const whole = bytes.byteLength === upload.size;
	const detected =
		upload.type === SEALED.type
			? ({ ok: true, ...SEALED } as const)
			: await detectFileType(
					whole ? bytes : completeUtf8Prefix(bytes),
					upload.kindHint ?? undefined
				);
	if (!detected.ok) {
		await discardUpload(deps, upload);
		return detected;
	}
	if (upload.r2UploadId !== NOT_CREATED) {
		if (detected.type === upload.type) return { ok: true, upload };
		return refuseFile(
			400,
			'bad_input',
			'This first part is a different kind of file from the one sent before.'
		);
	}
	const created = await bucket.createMultipartUpload(upload.r2Key, {
		httpMetadata: { contentType: detected.type }
	});
	const claimed = await db
		.update(uploads)
		.set({ r2UploadId: created.uploadId, type: detected.type, kind: detected.kind })
		.where(and(eq(uploads.id, upload.id), eq(uploads.r2UploadId, NOT_CREATED)));
	if (claimed.meta.changes === 1) {
		return {
			ok: true,
			upload: { ...upload, r2UploadId: created.uploadId, type: detected.type, kind: detected.kind }
		};
	}
	await created.abort();
	const [now] = await db.select().from(uploads).where(eq(uploads.id, upload.id)).limit(1);
	if (!now) return noSuchUpload();
	return now.type === detected.type
		? { ok: true, upload: now }
		: refuseFile(400, 'bad_input', 'This first part is a different kind of file.');
}

/**
 * `bytes` without a UTF-8 character cut off at their end: the first part of a text file ends
 * wherever the part size falls, and the text rule reads the part as UTF-8 strictly.
 */
export function completeUtf8Prefix(bytes: Uint8Array): Uint8Array {
	let start = bytes.length - 1;
	while (start >= 0 && bytes.length - start < 4 && (bytes[start]! & 0xc0) === 0x80) start--;
	if (start < 0) return bytes;
	const lead = bytes[start]!;
	const needs = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	return bytes.length - start < needs ? bytes.subarray(0, start) : bytes;
}

/**
 * The uploader discards their upload: its R2 upload is aborted, its rows deleted. The room is not
 * asked: this only ever discards the person's own bytes (and gives their quota back).
 */
export async function cancelUpload(
	deps: Pick<FileStoreDeps, 'db' | 'bucket'>,
	uploaderId: string,
	uploadId: string
): Promise<FileDone<object>> {
	const [upload] = await deps.db
		.select()
		.from(uploads)
		.where(and(eq(uploads.id, uploadId), eq(uploads.uploaderId, uploaderId)))
		.limit(1);
	if (!upload) return noSuchUpload();
	await discardUpload(deps, upload);
	return { ok: true };
}

/** Aborts the R2 upload (if there is one yet), then deletes the rows (the parts cascade). */
async function discardUpload(
	deps: Pick<FileStoreDeps, 'db' | 'bucket'>,
	upload: Pick<Upload, 'id' | 'r2Key' | 'r2UploadId'>
): Promise<void> {
	if (upload.r2UploadId !== NOT_CREATED) {
		await abortR2Upload(deps.bucket, upload.r2Key, upload.r2UploadId);
	}
	await deps.db.delete(uploads).where(eq(uploads.id, upload.id));
}

/** Aborts an R2 multipart upload; one R2 no longer knows (aborted or completed) is done already. */
export async function abortR2Upload(bucket: R2Bucket, key: string, uploadId: string) {
	try {
		await bucket.resumeMultipartUpload(key, uploadId).abort();
	} catch (err) {
		if (!isNoSuchUpload(err)) throw err;
	}
}

/** R2's "NoSuchUpload" (code 10024). */
export function isNoSuchUpload(err: unknown): boolean {
	return err instanceof Error && /NoSuchUpload|10024/i.test(err.message);
}

export async function uploadExists(db: Db, uploadId: string): Promise<boolean> {
	const rows = await db
		.select({ id: uploads.id })
		.from(uploads)
		.where(eq(uploads.id, uploadId))
		.limit(1);
	return rows.length === 1;
}

export function noSuchUpload() {
	return notFound('There is no such upload.');
}
