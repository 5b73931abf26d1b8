// What the browser tells the server about a file it uploads, besides the bytes: the same whether
// the file goes up in one request (`POST /api/rooms/<id>/files`, as headers) or in parts (the
// multipart upload's start, as JSON). The server decides the type from the bytes; these only
// describe what the browser measured.

import * as v from 'valibot';
import { MAX_FILE_ID_LENGTH } from '$shared/protocol';
import type { FileSecret } from './e2ee/file-secret';

export type ClientUploadMeta = {
	/** The file's name as the person has it; the server sanitizes it. */
	name: string;
	/** For WebM and MP4, which may hold sound alone or video: which one this is. */
	kindHint?: 'audio' | 'video';
	/** An image's or video's size in pixels, measured before upload. */
	width?: number;
	height?: number;
	/** A thumbhash of the image or the video's first frame, base64. */
	placeholder?: string;
	/**
	 * In an end-to-end encrypted room: the file's key. Its bytes go up encrypted and nothing
	 * above goes with them (they travel inside the encrypted message instead).
	 */
	secret?: FileSecret;
};

/** Progress of one upload: bytes the server has (or is receiving) out of the whole. */
export type UploadProgress = { sent: number; total: number };

/** A stored file as the server answers an upload (`describeFile` on the server), one or in parts. */
export type UploadedFile = {
	id: string;
	name: string;
	type: string;
	kind: 'image' | 'video' | 'audio' | 'document';
	size: number;
	width: number | null;
	height: number | null;
	placeholder: string | null;
	/** Where the file is served from, on this origin. */
	url: string;
};

/**
 * A stored file as the server describes it (`UploadedFile`), checked wherever it comes from: the
 * upload's answer, or the outbox in IndexedDB, which anyone may have written to.
 */
export const UploadedFileSchema = v.object({
	id: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_FILE_ID_LENGTH)),
	name: v.string(),
	type: v.string(),
	kind: v.picklist(['image', 'video', 'audio', 'document']),
	size: v.pipe(v.number(), v.integer(), v.minValue(1)),
	width: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
	height: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))),
	placeholder: v.nullable(v.string()),
	url: v.string()
}) satisfies v.GenericSchema<unknown, UploadedFile>;

/**
 * Why an upload failed, in words for the person, and whether trying again may help: a refusal
 * (4xx: too large, a type not allowed, over the quota, the room gone) will not; a dropped
 * connection or a server error (5xx) may. `code` is the server's refusal code when there was one.
 */
export class UploadError extends Error {
	readonly retryable: boolean;
	readonly code: string | null;
	readonly status: number | null;

	constructor(
		message: string,
		opts: { retryable: boolean; code?: string | null; status?: number | null }
	) {
		super(message);
		this.name = 'UploadError';
		this.retryable = opts.retryable;
		this.code = opts.code ?? null;
		this.status = opts.status ?? null;
	}
}
