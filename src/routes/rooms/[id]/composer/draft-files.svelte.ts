// The files of the message being written: chosen, dropped, pasted or recorded, each measured (an
// image's or video's size and placeholder, by code loaded on first use) and uploaded at once under
// the draft's clientId, so that Send is quick. The composer shows them in its tray and hands them
// to the message when it is sent; their uploads then go on as the message's.
import { newFileSecret } from '$lib/client/e2ee/file-secret';
import type { FileUploads } from '$lib/client/file-uploads.svelte';
import type { OutboxFile } from '$lib/client/outbox';
import { newClientId } from '$lib/client/room-connection.svelte';
import { refuseBeforeUpload, resumeKeyOf } from '$lib/client/upload-rules';
import { MAX_ATTACHMENTS } from '$shared/protocol';
import type { TrayItem } from './AttachmentTray.svelte';

export class DraftFiles {
	items = $state<TrayItem[]>([]);
	/** A file is still being measured: its upload has not started, so the message cannot go. */
	readonly preparing = $derived(this.items.some((f) => f.preparing));
	/** A file was refused or failed: the person removes or retries it before sending. */
	readonly blocked = $derived(
		this.items.some((f) => f.refused || this.#uploads().stateOf(f.key)?.status === 'failed')
	);

	/** The message's clientId, made when its first file is chosen (the server renders no file). */
	#draftId = '';
	#nextSlot = 0;
	#uploads: () => FileUploads;
	#maxBytes: () => number | null;

	/** `uploads`: the page's uploads; `maxBytes`: the server's limit on one file, when known. */
	constructor(uploads: () => FileUploads, maxBytes: () => number | null) {
		this.#uploads = uploads;
		this.#maxBytes = maxBytes;
	}

	/** Adds files (each starts uploading); answers what to tell the person if some were left out. */
	add(chosen: readonly File[], kindHint?: 'audio' | 'video'): string | null {
		this.#draftId ||= newClientId();
		const room = MAX_ATTACHMENTS - this.items.length;
		for (const file of chosen.slice(0, Math.max(0, room))) {
			const refused = refuseBeforeUpload(file, this.#maxBytes()) ?? undefined;
			this.items.push({
				key: resumeKeyOf(this.#draftId, this.#nextSlot++),
				blob: file,
				name: file.name || 'file',
				kindHint,
				secret: this.#uploads().sealed ? newFileSecret() : undefined,
				preparing: !refused,
				refused
			});
			if (!refused) void this.#prepare(this.items.at(-1)!.key);
		}
		return chosen.length > room ? `A message can carry up to ${MAX_ATTACHMENTS} files.` : null;
	}

	remove(item: TrayItem): void {
		this.items = this.items.filter((f) => f.key !== item.key);
		if (!item.refused) this.#uploads().cancel(item.key, item.blob.size);
	}

	retry(item: TrayItem): void {
		this.#uploads().start(this.#draftId, item.key, item.blob, metaOf(item));
	}

	/** What the message carries: its clientId and its files, or nothing without files. */
	attachment(): { clientId: string; files: OutboxFile[] } | undefined {
		if (this.items.length === 0) return undefined;
		return {
			clientId: this.#draftId,
			files: this.items.map((f) => ({ key: f.key, blob: f.blob, ...metaOf(f) }))
		};
	}

	/** The message was sent: its uploads go on as its own, and the next message starts afresh. */
	clear(): void {
		this.items = [];
		this.#draftId = '';
		this.#nextSlot = 0;
	}

	/** Measures an image or video, then starts its upload. */
	async #prepare(key: string): Promise<void> {
		const item = this.items.find((f) => f.key === key);
		if (!item) return;
		// Offline, the measuring code may not load: the file then goes up unmeasured.
		const measure = /^(image|video)\//.test(item.blob.type)
			? await import('$lib/client/measure-media')
					.then((m) => m.measureMedia(item.blob))
					.catch(() => ({}))
			: {};
		const now = this.items.find((f) => f.key === key);
		// Removed while it was measured: nothing to upload.
		if (!now) return;
		now.measure = measure;
		now.preparing = false;
		this.#uploads().start(this.#draftId, key, now.blob, metaOf(now));
	}
}

function metaOf(item: TrayItem) {
	return { name: item.name, kindHint: item.kindHint, ...item.measure, secret: item.secret };
}
