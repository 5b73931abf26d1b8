// Large files go up in parts (the server's R2 multipart upload: `POST /api/rooms/<id>/uploads`,
// `PUT /api/uploads/<id>/parts/<n>`, `POST /api/uploads/<id>/complete`), so a dropped connection
// or a reload loses at most the parts under way. The upload's id is kept in localStorage under the
// caller's `resumeKey`; a later call with the same key (after a reload the Blob comes back from
// IndexedDB) asks the server which parts it has and sends only the others.
//
// An AbortSignal pauses (offline, a reload, the page closing): the server keeps the parts, for a
// day. Only `abortUpload` discards them.
import { reconnectDelay, sleep } from './backoff';
import {
	UploadError,
	type ClientUploadMeta,
	type UploadedFile,
	type UploadProgress
} from './upload-meta';

/** What the server says of an upload in parts. */
type UploadStatus = {
	id: string;
	size: number;
	partSize: number;
	parts: { partNumber: number; size: number }[];
};

/** Parts sent at once after the first (which goes alone: it decides the type). */
const PARALLEL_PARTS = 3;
/** Tries of one request before the upload gives up for now (retryable). */
const ATTEMPTS = 5;
const STORAGE_PREFIX = 'parley:upload:';

type Saved = { uploadId: string; size: number };

function savedUpload(resumeKey: string): Saved | null {
	try {
		const raw = localStorage.getItem(STORAGE_PREFIX + resumeKey);
		if (!raw) return null;
		const saved = JSON.parse(raw) as Partial<Saved>;
		return typeof saved.uploadId === 'string' && typeof saved.size === 'number'
			? { uploadId: saved.uploadId, size: saved.size }
			: null;
	} catch {
		return null;
	}
}

function saveUpload(resumeKey: string, saved: Saved): void {
	try {
		localStorage.setItem(STORAGE_PREFIX + resumeKey, JSON.stringify(saved));
	} catch {
		// Storage full or denied: the upload still works, it just cannot resume after a reload.
	}
}

function forgetUpload(resumeKey: string): void {
	try {
		localStorage.removeItem(STORAGE_PREFIX + resumeKey);
	} catch {
		// Nothing to do.
	}
}

/**
 * Uploads `file` to a room in parts, resuming what the server already has for `resumeKey`.
 * Resolves with the stored file; rejects with an `UploadError` (or the signal's reason if
 * `signal` aborts, keeping the parts for a later call).
 */
export async function uploadInParts(
	roomId: string,
	file: Blob,
	meta: ClientUploadMeta,
	opts: { resumeKey: string; signal?: AbortSignal; onProgress?: (p: UploadProgress) => void }
): Promise<UploadedFile> {
	const { resumeKey, signal } = opts;
	// An upload the server no longer has (aborted by its cleanup after a day) starts again once.
	for (let fresh = 0; ; fresh++) {
		signal?.throwIfAborted();
		const status = await resumeOrStart(roomId, file, meta, resumeKey, signal);
		try {
			const uploaded = await finish(status, file, opts);
			forgetUpload(resumeKey);
			return uploaded;
		} catch (err) {
			if (err instanceof Gone && fresh === 0) {
				forgetUpload(resumeKey);
				continue;
			}
			if (err instanceof Gone) {
				forgetUpload(resumeKey);
				throw new UploadError(err.message, { retryable: false, code: 'not_found', status: 404 });
			}
			// A refusal for good (the type, the size): the server has discarded or will not take it.
			if (err instanceof UploadError && !err.retryable) forgetUpload(resumeKey);
			throw err;
		}
	}
}

/** The person cancelled: the server discards the parts, and the key is forgotten. */
export async function abortUpload(resumeKey: string): Promise<void> {
	const saved = savedUpload(resumeKey);
	forgetUpload(resumeKey);
	if (!saved) return;
	// Best effort: an upload left behind is aborted by the server's cleanup within a day.
	await fetch(`/api/uploads/${encodeURIComponent(saved.uploadId)}`, { method: 'DELETE' }).catch(
		() => undefined
	);
}

/** The upload of `resumeKey` as the server has it, or a new one. */
async function resumeOrStart(
	roomId: string,
	file: Blob,
	meta: ClientUploadMeta,
	resumeKey: string,
	signal?: AbortSignal
): Promise<UploadStatus> {
	const saved = savedUpload(resumeKey);
	if (saved && saved.size === file.size) {
		const response = await withRetries(
			() => fetchOrFail(`/api/uploads/${encodeURIComponent(saved.uploadId)}`, { signal }),
			signal
		);
		if (response.ok) {
			const status = (await response.json()) as UploadStatus;
			if (status.size === file.size) return status;
		}
	}
	forgetUpload(resumeKey);
	const response = await withRetries(
		() =>
			fetchOrFail(`/api/rooms/${encodeURIComponent(roomId)}/uploads`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ ...meta, size: file.size }),
				signal
			}),
		signal
	);
	if (!response.ok) throw await refusal(response);
	const status = (await response.json()) as UploadStatus;
	saveUpload(resumeKey, { uploadId: status.id, size: file.size });
	return status;
}

/** Sends the parts the server lacks (the first alone, then a few at once), then completes. */
async function finish(
	status: UploadStatus,
	file: Blob,
	opts: { signal?: AbortSignal; onProgress?: (p: UploadProgress) => void }
): Promise<UploadedFile> {
	const { signal, onProgress } = opts;
	const count = Math.ceil(file.size / status.partSize);
	const done = new Map<number, number>(status.parts.map((p) => [p.partNumber, p.size]));
	const inFlight = new Map<number, number>();
	const report = () => {
		let sent = 0;
		for (const size of done.values()) sent += size;
		for (const loaded of inFlight.values()) sent += loaded;
		onProgress?.({ sent: Math.min(sent, file.size), total: file.size });
	};
	report();
	const missing: number[] = [];
	for (let n = 1; n <= count; n++) if (!done.has(n)) missing.push(n);

	// One part failing for good stops the others, as the caller's signal does.
	const stop = new AbortController();
	const pause = () => stop.abort(signal?.reason);
	if (signal?.aborted) pause();
	else signal?.addEventListener('abort', pause, { once: true });
	const send = async (n: number) => {
		const start = (n - 1) * status.partSize;
		const part = file.slice(start, Math.min(file.size, start + status.partSize));
		const response = await withRetries(() => {
			inFlight.set(n, 0);
			return putPart(status.id, n, part, stop.signal, (loaded) => {
				inFlight.set(n, loaded);
				report();
			});
		}, stop.signal).finally(() => inFlight.delete(n));
		if (response.status === 404) throw new Gone();
		if (!response.ok) throw await refusal(response);
		done.set(n, part.size);
		report();
	};
	try {
		if (missing[0] === 1) await send(missing.shift()!);
		const queue = [...missing];
		await Promise.all(
			Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, async () => {
				for (let n = queue.shift(); n !== undefined; n = queue.shift()) await send(n);
			})
		);
	} catch (err) {
		stop.abort(err);
		throw signal?.aborted ? signal.reason : err;
	} finally {
		signal?.removeEventListener('abort', pause);
	}

	const response = await withRetries(
		() =>
			fetchOrFail(`/api/uploads/${encodeURIComponent(status.id)}/complete`, {
				method: 'POST',
				signal
			}),
		signal
	);
	if (response.status === 404) throw new Gone();
	if (!response.ok) throw await refusal(response);
	return (await response.json()) as UploadedFile;
}

/** The server no longer has the upload (or never let this person have it). */
class Gone extends Error {
	constructor() {
		super('This upload is no longer on the server. Send the file again.');
	}
}

/**
 * Runs `request` until it answers something other than a network failure or a server error
 * (5xx), waiting with jittered backoff between tries; after `ATTEMPTS`, a retryable
 * `UploadError`.
 */
async function withRetries(
	request: () => Promise<Response>,
	signal: AbortSignal | undefined
): Promise<Response> {
	let last: UploadError | null = null;
	for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
		if (attempt > 0) await sleep(reconnectDelay(attempt - 1), signal);
		signal?.throwIfAborted();
		let response: Response;
		try {
			response = await request();
		} catch (err) {
			if (signal?.aborted) throw signal.reason;
			if (err instanceof UploadError) {
				last = err;
				continue;
			}
			throw err;
		}
		if (response.status >= 500) {
			last = await refusal(response);
			continue;
		}
		return response;
	}
	throw last ?? new UploadError('The upload failed. It will try again.', { retryable: true });
}

/** `fetch`, with a network failure as a retryable `UploadError`. */
async function fetchOrFail(url: string, init: RequestInit): Promise<Response> {
	try {
		return await fetch(url, { ...init, credentials: 'same-origin' });
	} catch (err) {
		if (init.signal?.aborted) throw init.signal.reason;
		void err;
		throw offline();
	}
}

/** One part by XMLHttpRequest, for its upload progress events; a network failure throws. */
function putPart(
	uploadId: string,
	n: number,
	part: Blob,
	signal: AbortSignal | undefined,
	onLoaded: (loaded: number) => void
): Promise<Response> {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('PUT', `/api/uploads/${encodeURIComponent(uploadId)}/parts/${n}`);
		xhr.setRequestHeader('content-type', 'application/octet-stream');
		xhr.upload.onprogress = (event) => onLoaded(event.loaded);
		const stop = () => xhr.abort();
		signal?.addEventListener('abort', stop, { once: true });
		const settle = () => signal?.removeEventListener('abort', stop);
		xhr.onload = () => {
			settle();
			resolve(
				new Response(xhr.status === 204 ? null : xhr.responseText, {
					status: xhr.status,
					headers: { 'content-type': xhr.getResponseHeader('content-type') ?? 'text/plain' }
				})
			);
		};
		xhr.onerror = xhr.ontimeout = () => {
			settle();
			reject(offline());
		};
		xhr.onabort = () => {
			settle();
			reject(signal?.reason ?? new DOMException('The upload was paused.', 'AbortError'));
		};
		xhr.send(part);
	});
}

function offline(): UploadError {
	return new UploadError('The connection dropped while uploading. It will try again.', {
		retryable: true
	});
}

/** The server's refusal as an `UploadError`: 4xx are final (but 429), 5xx worth retrying. */
async function refusal(response: Response): Promise<UploadError> {
	let code: string | null = null;
	let message: string | null = null;
	try {
		const body = (await response.json()) as { code?: unknown; message?: unknown };
		if (typeof body.code === 'string') code = body.code;
		if (typeof body.message === 'string') message = body.message;
	} catch {
		// Not the API's JSON: a proxy's page, say.
	}
	const retryable = response.status >= 500 || response.status === 429;
	return new UploadError(
		message ??
			(retryable
				? 'The server could not take the file just now. It will try again.'
				: 'The file could not be uploaded.'),
		{ retryable, code, status: response.status }
	);
}
