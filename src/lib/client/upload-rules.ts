// What the composer decides about a file at once, before any upload code is loaded: the key its
// upload resumes by, and what the browser refuses outright.

import { describeBytes } from '$shared/bytes';
import type { OutboxFile } from './outbox';
import type { ClientUploadMeta } from './upload-meta';

/** The key an upload of a message's file resumes by: the message's `clientId` and the file's slot. */
export function resumeKeyOf(clientId: string, index: number): string {
	if (clientId === '' || !Number.isInteger(index) || index < 0) {
		throw new RangeError('A resume key needs a clientId and a slot (0 or more).');
	}
	return `${clientId}:${index}`;
}

/**
 * Why the browser refuses a file before uploading it, in words for the person, or null. The
 * server decides again (and alone decides the type, from the bytes); this only spares a doomed
 * upload. `maxBytes` is the server's configured limit, when the page knows it.
 */
export function refuseBeforeUpload(
	file: { name: string; size: number },
	maxBytes: number | null
): string | null {
	if (file.size === 0) return `${file.name} is empty.`;
	if (maxBytes !== null && file.size > maxBytes) {
		return `${file.name} is too large (${describeBytes(file.size)}): files can be up to ${describeBytes(maxBytes)}.`;
	}
	return null;
}

/** What an upload of `file` tells the server besides its bytes. */
export function uploadMetaOf(file: OutboxFile): ClientUploadMeta {
	const { name, kindHint, width, height, placeholder, secret } = file;
	return { name, kindHint, width, height, placeholder, secret };
}
