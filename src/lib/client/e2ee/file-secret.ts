// A file of an end-to-end encrypted conversation gets a key of its own as it is chosen: this is
// in the room page's first load (the composer makes it), so it is only the random bytes, in
// base64 by the browser's own btoa. The encryption itself is `file-cipher.ts`, loaded when used.
// docs/e2ee.md, "Files".

/** The key and nonce of one file, base64. */
export type FileSecret = { key: string; iv: string };

const KEY_BYTES = 32;
const IV_BYTES = 12;

/** A new secret for one file: random bytes from the browser's CSPRNG. */
export function newFileSecret(): FileSecret {
	const random = (n: number) =>
		btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
	return { key: random(KEY_BYTES), iv: random(IV_BYTES) };
}
