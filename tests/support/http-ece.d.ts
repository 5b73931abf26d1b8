// The few parts of `http_ece` (no types of its own) the tests' push service uses.
declare module 'http_ece' {
	import type { ECDH } from 'node:crypto';
	export function decrypt(
		buffer: Buffer,
		params: { version: 'aes128gcm'; privateKey: ECDH; authSecret: Buffer | string }
	): Buffer;
}
