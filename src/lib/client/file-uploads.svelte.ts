// The uploads of one room page, by resume key: those the composer starts as files are chosen
// (before Send, so sending is quick), and those of unsent messages that the outbox brought back.
// One upload per key at a time, whoever asks; its progress is `$state` for the tray and the pending
// message, and its end is told to the owner (the room connection hands it to `PendingSends`).

import { getContext, setContext } from 'svelte';
import { abandonUpload, uploadFile } from './upload';
import { UploadError, type ClientUploadMeta, type UploadedFile } from './upload-meta';

/**
 * Loads the measuring code (thumbhash) once the room has opened, so that an image attached later,
 * offline, is still measured (without it, the file goes up unmeasured). The upload engine itself
 * is in the page's first load: a module that failed to load offline could not start an upload.
 */
export function warmUploads(): void {
	void import('./measure-media').catch(() => undefined);
}

export type UploadState =
	| { status: 'uploading'; sent: number; total: number }
	| { status: 'stored'; sent: number; total: number; uploaded: UploadedFile }
	| { status: 'failed'; sent: number; total: number; error: string; retryable: boolean };

export type UploadEvents = {
	stored: (clientId: string, key: string, uploaded: UploadedFile) => void;
	failed: (clientId: string, key: string, error: string) => void;
};

export class FileUploads {
	/** Each upload's state by its key; a new object on every change. */
	states = $state.raw<Record<string, UploadState>>({});

	/** An end-to-end encrypted room: each file gets a key as it is chosen, and goes up encrypted. */
	readonly sealed: boolean;
	#roomId: string;
	#events: UploadEvents;
	/** The uploads going now, to stop them. Bookkeeping only, never rendered. */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#running = new Map<string, AbortController>();

	constructor(roomId: string, events: UploadEvents, sealed = false) {
		this.#roomId = roomId;
		this.#events = events;
		this.sealed = sealed;
	}

	stateOf(key: string): UploadState | undefined {
		return this.states[key];
	}

	/**
	 * Uploads `blob` as file `key` of message `clientId`, unless it is going or stored already.
	 * A failed one starts again.
	 */
	start(clientId: string, key: string, blob: Blob, meta: ClientUploadMeta): void {
		if (this.#running.has(key) || this.states[key]?.status === 'stored') return;
		const controller = new AbortController();
		this.#running.set(key, controller);
		this.#setState(key, { status: 'uploading', sent: 0, total: blob.size });
		const onProgress = ({ sent, total }: { sent: number; total: number }) => {
			if (this.#running.get(key) !== controller) return;
			this.#setState(key, { status: 'uploading', sent: Math.min(sent, total), total });
		};
		sealed(blob, meta)
			.then(([bytes, told]) =>
				uploadFile(this.#roomId, bytes, told, {
					resumeKey: key,
					signal: controller.signal,
					onProgress
				})
			)
			.then(
				(uploaded) => {
					if (this.#running.get(key) !== controller) return;
					this.#running.delete(key);
					this.#setState(key, { status: 'stored', sent: blob.size, total: blob.size, uploaded });
					this.#events.stored(clientId, key, uploaded);
				},
				(err: unknown) => {
					// Stopped on purpose (cancelled, or the page left the room): nothing to tell.
					if (this.#running.get(key) !== controller || controller.signal.aborted) return;
					this.#running.delete(key);
					const error = err instanceof UploadError ? err.message : 'The upload failed. Try again.';
					const retryable = err instanceof UploadError ? err.retryable : true;
					this.#setState(key, { status: 'failed', sent: 0, total: blob.size, error, retryable });
					this.#events.failed(clientId, key, error);
				}
			);
	}

	/** The person removed the file: its upload stops, and what a large one left is aborted. */
	cancel(key: string, size: number): void {
		this.#running.get(key)?.abort();
		this.#running.delete(key);
		const rest = { ...this.states };
		delete rest[key];
		this.states = rest;
		abandonUpload(key, size).catch((err: unknown) =>
			console.warn('upload: could not abort an unfinished upload', err)
		);
	}

	/** The page leaves the room: uploads stop, and resume (by their keys) on the next visit. */
	stopAll(): void {
		for (const controller of this.#running.values()) controller.abort();
		this.#running.clear();
	}

	#setState(key: string, state: UploadState): void {
		this.states = { ...this.states, [key]: state };
	}
}

/**
 * What goes up for a file: as it is, or in an end-to-end encrypted room its ciphertext under no
 * name (the same bytes each time, so an upload in parts resumes: file-secret.ts).
 */
async function sealed(blob: Blob, meta: ClientUploadMeta): Promise<[Blob, ClientUploadMeta]> {
	if (!meta.secret) return [blob, meta];
	const { sealFile } = await import('./e2ee/file-cipher');
	return [await sealFile(blob, meta.secret), { name: 'file' }];
}

const CONTEXT = Symbol('uploads');

/** The room page shares its uploads with what shows them (a pending message's files). */
export function setUploadsContext(uploads: FileUploads): void {
	setContext(CONTEXT, uploads);
}

export function getUploadsContext(): FileUploads | undefined {
	return getContext<FileUploads | undefined>(CONTEXT);
}
