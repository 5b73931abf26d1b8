// A file of an end-to-end encrypted conversation: encrypted in the browser with its own key
// (AES-256-GCM through Web Crypto, `file-secret.ts`) before it is uploaded, so the server stores
// bytes it cannot read. The key, the file's name, type and measurements travel inside the MLS
// message that carries the file (docs/e2ee.md, "Files"), so only the group can open it.
//
// Each file gets a fresh random key, so its one fixed nonce is never used with another plaintext;
// encrypting the same file again (an upload resumed after a reload) gives the same bytes, which
// is what lets an upload in parts resume.
import { MEDIA_KINDS } from '$shared/files';
import type { FileSecret } from './file-secret';

const decodeBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function importKey(secret: FileSecret, use: KeyUsage): Promise<CryptoKey> {
	return crypto.subtle.importKey('raw', decodeBase64(secret.key), 'AES-GCM', false, [use]);
}

/** The bytes to upload: `file` encrypted with its secret. */
export async function sealFile(file: Blob, secret: FileSecret): Promise<Blob> {
	const key = await importKey(secret, 'encrypt');
	const sealed = await crypto.subtle.encrypt(
		{ name: 'AES-GCM', iv: decodeBase64(secret.iv) },
		key,
		await file.arrayBuffer()
	);
	return new Blob([sealed], { type: 'application/octet-stream' });
}

/**
 * The file back from what the server stored, typed as the browser may show it: a media type
 * Parley shows in place, or plain bytes to download. Throws if the bytes were changed (GCM's tag).
 */
export async function openFile(
	sealed: ArrayBuffer,
	secret: FileSecret,
	type: string
): Promise<Blob> {
	const key = await importKey(secret, 'decrypt');
	const opened = await crypto.subtle.decrypt(
		{ name: 'AES-GCM', iv: decodeBase64(secret.iv) },
		key,
		sealed
	);
	return new Blob([opened], { type: shownType(type) });
}

/**
 * The type the browser may give a decrypted file. The sender names it and the server cannot check
 * it, so anything but a picture, video or sound Parley shows is bytes: a file named HTML or SVG
 * would otherwise run in the app's own origin when opened from its `blob:` address.
 */
export function shownType(type: string): string {
	return MEDIA_KINDS[type] ? type : 'application/octet-stream';
}

/** How a decrypted file of `type` is shown: in place, or as a download. */
export function shownKind(type: string): 'image' | 'video' | 'audio' | 'document' {
	return MEDIA_KINDS[type] ?? 'document';
}
