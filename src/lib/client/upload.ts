// Uploads one file to a room: the engine under the composer's tray and the outbox. A small file
// goes up in one `POST /api/rooms/<id>/files` (XMLHttpRequest, for its upload progress), tried
// again after a dropped connection or a server error, never after a refusal (4xx: too large, a
// type not allowed, over the quota or the rate: trying again would be refused the same way). A
// file above `MULTIPART_THRESHOLD_BYTES` goes up in parts (`multipart-upload.ts`), resumable by its
// `resumeKey` across reloads. Either way, while the browser is offline the upload waits for the
// network instead of counting tries.

import * as v from 'valibot';
import { MULTIPART_THRESHOLD_BYTES } from '$shared/files';
import { reconnectDelay, sleep } from './backoff';
import { abortUpload, uploadInParts } from './multipart-upload';
import {
	UploadedFileSchema,
	UploadError,
	type ClientUploadMeta,
	type UploadedFile,
	type UploadProgress
} from './upload-meta';

/** Tries of one small upload before it counts as failed (the person may retry it then). */
export const MAX_UPLOAD_ATTEMPTS = 5;

export type UploadOptions = {
	/** Names this upload for as long as it may resume: `${clientId}:${index}` (`resumeKeyOf`). */
	resumeKey: string;
	signal?: AbortSignal;
	onProgress?: (progress: UploadProgress) => void;
};

/** Stores `file` in room `roomId`, or throws an `UploadError` (or the signal's abort reason). */
export async function uploadFile(
	roomId: string,
	file: Blob,
	meta: ClientUploadMeta,
	options: UploadOptions
): Promise<UploadedFile> {
	// A large file goes in parts; trying again resumes from the parts the server has.
	const once =
		file.size > MULTIPART_THRESHOLD_BYTES
			? () => uploadInParts(roomId, file, meta, options)
			: () => postFile(roomId, file, meta, options);
	const { signal } = options;
	for (let attempt = 0; ; attempt++) {
		signal?.throwIfAborted();
		try {
			return await once();
		} catch (err) {
			if (!(err instanceof UploadError) || !err.retryable || signal?.aborted) throw err;
			// Offline, waiting costs nothing: the upload goes again when the network is back.
			if (typeof navigator !== 'undefined' && navigator.onLine === false) {
				await online(signal);
				attempt = -1;
				continue;
			}
			if (attempt + 1 >= MAX_UPLOAD_ATTEMPTS) throw err;
			await sleep(reconnectDelay(attempt) + 250, signal);
		}
	}
}

/** Aborts what a large upload left unfinished on the server; a small one leaves nothing. */
export async function abandonUpload(resumeKey: string, size: number): Promise<void> {
	if (size <= MULTIPART_THRESHOLD_BYTES) return;
	await abortUpload(resumeKey);
}

/** The request headers an upload's meta travels in (`upload-headers.ts` on the server). */
export function uploadHeaders(meta: ClientUploadMeta): Record<string, string> {
	const headers: Record<string, string> = { 'x-file-name': encodeURIComponent(meta.name) };
	if (meta.kindHint) headers['x-file-kind-hint'] = meta.kindHint;
	if (meta.width && meta.height) {
		headers['x-file-width'] = String(meta.width);
		headers['x-file-height'] = String(meta.height);
	}
	if (meta.placeholder) headers['x-file-placeholder'] = meta.placeholder;
	return headers;
}

/** One try: the bytes as the body, the meta in headers. */
function postFile(
	roomId: string,
	file: Blob,
	meta: ClientUploadMeta,
	{ signal, onProgress }: UploadOptions
): Promise<UploadedFile> {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('POST', `/api/rooms/${encodeURIComponent(roomId)}/files`);
		for (const [name, value] of Object.entries(uploadHeaders(meta))) {
			xhr.setRequestHeader(name, value);
		}
		xhr.setRequestHeader('content-type', 'application/octet-stream');
		xhr.responseType = 'text';
		const abort = () => xhr.abort();
		signal?.addEventListener('abort', abort, { once: true });
		const done = () => signal?.removeEventListener('abort', abort);
		xhr.upload.onprogress = (event) => {
			onProgress?.({ sent: event.loaded, total: event.lengthComputable ? event.total : file.size });
		};
		xhr.onload = () => {
			done();
			const answer = parseJson(xhr.responseText);
			if (xhr.status === 201 && isUploadedFile(answer)) {
				onProgress?.({ sent: file.size, total: file.size });
				resolve(answer);
			} else {
				reject(refusalOf(xhr.status, answer));
			}
		};
		xhr.onerror = xhr.ontimeout = () => {
			done();
			reject(
				new UploadError('The upload was interrupted. Check your connection.', { retryable: true })
			);
		};
		xhr.onabort = () => {
			done();
			reject(signal?.reason ?? new DOMException('The upload was cancelled.', 'AbortError'));
		};
		xhr.send(file);
	});
}

function refusalOf(status: number, answer: unknown): UploadError {
	const body = typeof answer === 'object' && answer !== null ? answer : {};
	const code = 'code' in body && typeof body.code === 'string' ? body.code : null;
	const said = 'message' in body && typeof body.message === 'string' ? body.message : null;
	const retryable = status >= 500 || status === 0;
	const message =
		said && status >= 400 && status < 500
			? said
			: retryable
				? 'The server could not store the file. Try again.'
				: 'The file could not be uploaded.';
	return new UploadError(message, { retryable, code, status });
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

function isUploadedFile(value: unknown): value is UploadedFile {
	return v.is(UploadedFileSchema, value);
}

/** Resolves when the browser says it is online again. */
function online(signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		const back = () => {
			signal?.removeEventListener('abort', stop);
			resolve();
		};
		const stop = () => {
			window.removeEventListener('online', back);
			reject(signal?.reason);
		};
		window.addEventListener('online', back, { once: true });
		signal?.addEventListener('abort', stop, { once: true });
	});
}
