// Files in R2 with their metadata in D1: storing an upload, finding a file for a reader, opening
// its bytes, deleting it. The one rule for who may read a file is the room's: whoever may read
// the room's history now (authz.ts, `read`), asked again on every access, so a removal, ban or
// block ends access at once; a profile picture or room icon follows who may see its person or
// room instead (`readableFile`). Everyone else is told the file does not exist.
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Db } from '$lib/server/db';
import { generateId } from '$lib/server/ids';
import { consumeRateLimits, describeWait } from '$lib/server/rate-limit';
import {
	accessOf,
	authorizeRoom,
	decidePerson,
	decideRoom,
	loadPersonAccess,
	membershipOf,
	roomAccessColumns
} from '$lib/server/rooms/authz';
import { files, memberships, rooms, users } from '$shared/db/schema';
import { describeBytes, UPLOAD_RATE_LIMIT, type FileLimits } from './limits';
import { refuseFile, type FileDone, type FileRefusal } from './refusal';
import { SEALED_FILE } from '$shared/files';
import { detectFileType, SEALED, type DetectedType, type FileKind } from './types';
import type { UploadMeta } from './upload-headers';

export type FileStoreDeps = { db: Db; bucket: R2Bucket; limits: FileLimits };

/** A file's row. `r2Key` never leaves the server. */
export type StoredFile = typeof files.$inferSelect;

/** What the API tells the uploader (and, later, what a message carries) about a file. */
export type FileInfo = {
	id: string;
	name: string;
	type: string;
	kind: FileKind;
	size: number;
	width: number | null;
	height: number | null;
	placeholder: string | null;
	url: string;
};

/** Where a file is served from: `src/routes/files/[id]/+server.ts`. */
export function fileUrl(fileId: string): string {
	return `/files/${fileId}`;
}

export function describeFile(file: StoredFile): FileInfo {
	return {
		id: file.id,
		name: file.name,
		type: file.type,
		kind: file.kind,
		size: file.size,
		width: file.width,
		height: file.height,
		placeholder: file.placeholder,
		url: fileUrl(file.id)
	};
}

export type UploadInput = {
	uploaderId: string;
	roomId: string;
	/** The request body: the file's bytes, read here under the size limit. */
	body: ReadableStream<Uint8Array> | null;
	/** Content-Length, when the request had one. */
	declaredLength: number | null;
	meta: UploadMeta;
};

/**
 * Stores one uploaded file for a room, or refuses it having stored nothing. The uploader must be
 * allowed to send to the room (the rule of sending a message: `read`, which only members pass);
 * then `storeFile` does the rest.
 */
export async function storeUpload(
	deps: FileStoreDeps,
	input: UploadInput,
	now = Date.now()
): Promise<FileDone<{ file: FileInfo }>> {
	const access = await authorizeRoom(deps.db, input.uploaderId, input.roomId, 'read');
	// Any refusal reads as a missing room: the same answer the reader of a file gets.
	if (!access.ok) return notFound('This room does not exist.');
	const sealed = access.room.encryption === 'mls';
	const stored = await storeFile(deps, { ...input, purpose: 'attachment', sealed }, now);
	return stored.ok ? { ok: true, file: describeFile(stored.file) } : stored;
}

/** What `storeFile` stores, for a caller that has already decided the uploader may. */
export type StoreInput = {
	uploaderId: string;
	/** The room the file belongs to; null for a profile picture. */
	roomId: string | null;
	purpose: StoredFile['purpose'];
	body: ReadableStream<Uint8Array> | null;
	declaredLength: number | null;
	meta: UploadMeta;
	/**
	 * For an end-to-end encrypted room: the bytes are ciphertext, stored as `SEALED` under
	 * `SEALED_FILE.name`, with none of the browser's measurements (they travel encrypted).
	 */
	sealed?: boolean;
	/** A narrower rule than the allow list (a picture must be a raster image): a refusal, or null. */
	accept?: (detected: DetectedType) => FileRefusal | null;
	/**
	 * A statement to run in the same D1 batch as the row's insert (so both or neither commit), for
	 * example naming the new file as someone's picture. It should change nothing unless the row
	 * was written (`exists (select 1 from files where id = …)`).
	 */
	alongside?: (file: StoredFile) => BatchItem<'sqlite'>;
};

/**
 * The steps every stored file goes through, after its authorization: the upload rate; the size
 * the request declares (before reading a byte); the uploader's quota; the bytes, read while
 * counting; the type, from the bytes. Then the bytes go to R2 under a fresh random key with the
 * detected type, and the row to D1 in one statement that re-checks the quota (two uploads at once
 * cannot both squeeze under it). If that statement fails or the quota check in it refuses, the
 * object is deleted again.
 */
export async function storeFile(
	deps: FileStoreDeps,
	input: StoreInput,
	now = Date.now()
): Promise<FileDone<{ file: StoredFile }>> {
	const { db, bucket, limits } = deps;
	const { uploaderId, meta } = input;
	const admitted = await admitUpload(deps, uploaderId, input.declaredLength, now);
	if (!admitted.ok) return admitted;

	const read = await readCapped(input.body, limits.maxBytes);
	if (!read.ok) return tooLarge(limits);
	const bytes = read.bytes;
	if (bytes.byteLength === 0) return emptyFile();
	const detected = input.sealed
		? ({ ok: true, ...SEALED } as const)
		: await detectFileType(bytes, meta.kindHint);
	if (!detected.ok) return detected;
	const refused = input.accept?.(detected);
	if (refused) return refused;

	// Measurements only mean something for what is shown at a size.
	const shown = detected.kind === 'image' || detected.kind === 'video';
	const file: StoredFile = {
		id: generateId(),
		r2Key: `f/${generateId()}`,
		uploaderId,
		roomId: input.roomId,
		name: input.sealed ? SEALED_FILE.name : meta.name,
		type: detected.type,
		kind: detected.kind,
		size: bytes.byteLength,
		width: shown ? (meta.width ?? null) : null,
		height: shown ? (meta.height ?? null) : null,
		placeholder: shown ? (meta.placeholder ?? null) : null,
		createdAt: now,
		messageSeq: null,
		purpose: input.purpose
	};

	await bucket.put(file.r2Key, bytes, { httpMetadata: { contentType: file.type } });
	let inserted: boolean;
	try {
		inserted = await insertWithinQuota(db, file, limits.quotaBytes, input.alongside?.(file));
	} catch (err) {
		await bucket.delete(file.r2Key);
		throw err;
	}
	if (!inserted) {
		await bucket.delete(file.r2Key);
		return overQuota(limits);
	}
	return { ok: true, file };
}

/**
 * The checks every upload passes after its authorization and before a byte is read, in one
 * request or in parts, in this order: the upload rate, the declared size (when there is one)
 * against the limit, the quota.
 */
export async function admitUpload(
	deps: Pick<FileStoreDeps, 'db' | 'limits'>,
	uploaderId: string,
	declaredLength: number | null,
	now: number
): Promise<FileDone<object>> {
	const { db, limits } = deps;
	const rate = await consumeRateLimits(db, [[UPLOAD_RATE_LIMIT, uploaderId]], now);
	if (!rate.ok) {
		return refuseFile(
			429,
			'rate_limited',
			`Too many uploads. Try again in ${describeWait(rate.retryAfterSeconds)}.`,
			rate.retryAfterSeconds
		);
	}

	if (declaredLength === 0) return emptyFile();
	if (declaredLength !== null && declaredLength > limits.maxBytes) return tooLarge(limits);
	const used = await bytesStoredBy(db, uploaderId);
	if (used + Math.max(1, declaredLength ?? 1) > limits.quotaBytes) return overQuota(limits);
	return { ok: true };
}

/**
 * What counts against a person's quota, as SQL: every file they have stored (until deleted) and
 * the declared size of every upload in parts they have under way, but `exceptUpload`'s (the
 * upload being completed, whose file is what is being counted).
 */
function quotaUsed(userId: string, exceptUpload: string | null = null): SQL {
	return sql`((select coalesce(sum(size), 0) from files where uploader_id = ${userId})
		+ (select coalesce(sum(size), 0) from uploads where uploader_id = ${userId}
			and id is not ${exceptUpload}))`;
}

/** The bytes counted against a person's quota: their files and their unfinished uploads. */
export async function bytesStoredBy(db: Db, userId: string): Promise<number> {
	const [row] = await db.all<{ total: number }>(sql`select ${quotaUsed(userId)} as total`);
	return Number(row?.total ?? 0);
}

/**
 * The statement that inserts a file's row only if the uploader's total stays within the quota.
 * With `fromUpload`, the file is that upload in parts being completed: its declared size is not
 * counted twice, and the row is inserted only while the upload's row still exists (so two
 * completions cannot both make a file). One statement, for `db.batch`.
 */
export function insertWithinQuotaStatement(
	db: Db,
	file: StoredFile,
	quotaBytes: number,
	fromUpload: string | null = null
) {
	const upload =
		fromUpload === null ? sql`1` : sql`exists (select 1 from uploads where id = ${fromUpload})`;
	// An insert builder around the raw select, not `db.run(sql)`: drizzle's D1 batch cannot bind
	// the parameters of a raw statement. The select lists the values in the table's column order.
	return db.insert(files).select(sql`
		select ${file.id}, ${file.r2Key}, ${file.uploaderId}, ${file.roomId}, ${file.name},
			${file.type}, ${file.kind}, ${file.size}, ${file.width}, ${file.height},
			${file.placeholder}, ${file.createdAt}, ${file.messageSeq}, ${file.purpose}
		where ${quotaUsed(file.uploaderId, fromUpload)} + ${file.size} <= ${quotaBytes}
			and ${upload}`);
}

/**
 * Inserts the row only if the uploader's total stays within the quota, with `alongside` in the
 * same batch; false if the quota refused it.
 */
async function insertWithinQuota(
	db: Db,
	file: StoredFile,
	quotaBytes: number,
	alongside?: BatchItem<'sqlite'>
): Promise<boolean> {
	const insert = insertWithinQuotaStatement(db, file, quotaBytes);
	// Alone, the same statement goes through `db.run` (where the store's tests inject a failure).
	if (!alongside) return (await db.run(insert.getSQL())).meta.changes === 1;
	const [result] = await db.batch([insert, alongside]);
	return result.meta.changes === 1;
}

type Capped = { ok: true; bytes: Uint8Array } | { ok: false };

/** Reads a body to the end, giving up (and cancelling it) as soon as it passes `maxBytes`. */
export async function readCapped(
	body: ReadableStream<Uint8Array> | null,
	maxBytes: number
): Promise<Capped> {
	if (!body) return { ok: true, bytes: new Uint8Array(0) };
	const chunks: Uint8Array[] = [];
	let total = 0;
	const reader = body.getReader();
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total > maxBytes) {
			await reader.cancel();
			return { ok: false };
		}
		chunks.push(value);
	}
	const bytes = new Uint8Array(total);
	let at = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, at);
		at += chunk.byteLength;
	}
	return { ok: true, bytes };
}

/**
 * The file, if `userId` may read it now. One place for the rule, by the file's purpose:
 * - an attachment: it still belongs to a room, and the room's rules (`decideRoom(…, 'read')`:
 *   membership, bans, blocks in direct rooms) let this person read it;
 * - a room's icon: it is the room's icon now (`rooms.icon_key`; a replaced one is gone at once),
 *   and this person may see the room (`view`: its members, and for a public room anyone not
 *   banned who may find it in the directory);
 * - a profile picture: it is its owner's picture now (`users.avatar_key`), and this person may
 *   see its owner (`decidePerson(…, 'view')`, the profile page's rule: not if the owner blocked them).
 * The file's row and the room's rules are one D1 statement, built from the same pieces as the
 * socket door. Anonymous visitors never read a file, like they never read a room's history.
 */
export async function readableFile(
	db: Db,
	fileId: string,
	userId: string | null
): Promise<StoredFile | null> {
	if (!userId) return null;
	const [row] = await db
		.select({ file: files, ...roomAccessColumns(userId), pictureOwner: users.id })
		.from(files)
		.leftJoin(rooms, eq(rooms.id, files.roomId))
		.leftJoin(memberships, membershipOf(userId))
		// A profile picture is its owner's upload, so its owner is found by primary key.
		.leftJoin(
			users,
			and(
				eq(files.purpose, 'avatar'),
				eq(users.id, files.uploaderId),
				eq(users.avatarKey, files.id)
			)
		)
		.where(eq(files.id, fileId))
		.limit(1);
	if (!row) return null;
	const { file } = row;
	switch (file.purpose) {
		case 'attachment':
			return row.room && decideRoom(accessOf(userId, row), 'read').ok ? file : null;
		case 'icon':
			return row.room?.iconKey === file.id && decideRoom(accessOf(userId, row), 'view').ok
				? file
				: null;
		case 'avatar': {
			if (!row.pictureOwner) return null;
			const person = await loadPersonAccess(db, userId, row.pictureOwner);
			return decidePerson(person, 'view').ok ? file : null;
		}
	}
}

/** A byte range within a file: `length` bytes from `offset`. */
export type ByteRange = { offset: number; length: number };

/**
 * Opens a file's bytes for a reader, authorized now (see `readableFile`), whole or a range of
 * them. Every refusal, and a row whose object is missing, is `not_found`.
 */
export async function openFile(
	deps: Pick<FileStoreDeps, 'db' | 'bucket'>,
	fileId: string,
	userId: string | null,
	range?: ByteRange
): Promise<FileDone<{ file: StoredFile; body: R2ObjectBody }>> {
	const file = await readableFile(deps.db, fileId, userId);
	if (!file) return notFound();
	const body = await readStoredFile(deps.bucket, file, range);
	return body ? { ok: true, file, body } : notFound();
}

/** The bytes of a file already authorized; null if its object is missing from the bucket. */
export async function readStoredFile(
	bucket: R2Bucket,
	file: StoredFile,
	range?: ByteRange
): Promise<R2ObjectBody | null> {
	const object = await bucket.get(file.r2Key, range ? { range } : undefined);
	if (!object) console.error(`file ${file.id}: its R2 object is missing`);
	return object;
}

/**
 * Deletes a file: its object, then its row. For callers that have decided it must go (deleting the
 * message that carries it, the cleanup job): no authorization here. Deleting the object first
 * means a failure in between leaves a row that a retry deletes, never an object nobody knows of.
 * False if there was no such file.
 */
export async function deleteFile(
	deps: Pick<FileStoreDeps, 'db' | 'bucket'>,
	fileId: string
): Promise<boolean> {
	const [file] = await deps.db
		.select({ r2Key: files.r2Key })
		.from(files)
		.where(eq(files.id, fileId))
		.limit(1);
	if (!file) return false;
	await deps.bucket.delete(file.r2Key);
	await deps.db.delete(files).where(and(eq(files.id, fileId), eq(files.r2Key, file.r2Key)));
	return true;
}

export function notFound(message = 'There is no such file.') {
	return refuseFile(404, 'not_found', message);
}

export function emptyFile() {
	return refuseFile(400, 'empty_file', 'This file is empty.');
}

export function tooLarge(limits: FileLimits) {
	return refuseFile(
		413,
		'too_large',
		`This file is larger than ${describeBytes(limits.maxBytes)}, the largest that can be shared.`
	);
}

export function overQuota(limits: FileLimits) {
	return refuseFile(
		413,
		'quota_exceeded',
		`This file would take your files past ${describeBytes(limits.quotaBytes)}, the space each ` +
			'person has for them.'
	);
}
