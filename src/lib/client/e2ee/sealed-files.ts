// The files of an end-to-end encrypted room's messages, as this device shows them. The room's
// own record of a file says only "encrypted" and its size; what it is (name, type, measurements)
// and its key come from the decrypted message (`SealedFile`). Each file is fetched and decrypted
// once, into a `blob:` copy the timeline and the viewer show.
import type { Attachment } from '$shared/protocol';
import type { SealedFile } from './engine';
import { openFile, shownKind, shownType } from './file-cipher';

/** A file as shown: `src` is its decrypted copy, empty until it is ready. */
export type ShownAttachment = Attachment & { src: string };

export class SealedFiles {
	/** Decrypted copies by file id: bookkeeping, the owner re-renders on `changed`. */
	#urls = new Map<string, string>();
	/** Being fetched, or failed (gone, or changed: GCM refuses it) until the page is opened again. */
	#tried = new Set<string>();
	#changed: () => void;

	constructor(changed: () => void) {
		this.#changed = changed;
	}

	/**
	 * What a message carries, as the sender's browser described it, limited to the files the room
	 * still attaches to it (a file deleted since is gone from `carried`); undefined for none.
	 */
	shown(
		files: readonly SealedFile[] | undefined,
		carried: readonly Attachment[] | undefined
	): ShownAttachment[] | undefined {
		if (!files || !carried) return undefined;
		const present = new Set(carried.map((file) => file.id));
		const shown = files
			.filter((file) => present.has(file.id))
			.map((file): ShownAttachment => {
				this.#open(file);
				return {
					id: file.id,
					name: file.name,
					type: shownType(file.type),
					kind: shownKind(file.type),
					size: file.size,
					...(file.width ? { width: file.width } : {}),
					...(file.height ? { height: file.height } : {}),
					...(file.placeholder ? { placeholder: file.placeholder } : {}),
					src: this.#urls.get(file.id) ?? ''
				};
			});
		return shown.length > 0 ? shown : undefined;
	}

	/** Lets go of every decrypted copy: the room page closed. */
	close(): void {
		for (const url of this.#urls.values()) URL.revokeObjectURL(url);
		this.#urls.clear();
	}

	#open(file: SealedFile): void {
		if (this.#urls.has(file.id) || this.#tried.has(file.id)) return;
		this.#tried.add(file.id);
		fetch(`/files/${encodeURIComponent(file.id)}`)
			.then((response) => {
				if (!response.ok) throw new Error(`The file could not be fetched (${response.status}).`);
				return response.arrayBuffer();
			})
			.then((bytes) => openFile(bytes, file, file.type))
			.then(
				(blob) => {
					this.#urls.set(file.id, URL.createObjectURL(blob));
					this.#changed();
				},
				(error: unknown) => console.warn('encrypted room: a file could not be opened', error)
			);
	}
}
