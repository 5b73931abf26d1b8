import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { sha256 } from '@oslojs/crypto/sha2';

/** A random identifier for rows (120 bits, 24 base32 characters). */
export function generateId(): string {
	return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(15)));
}

/** A random secret handed to a user (160 bits): session tokens, emailed links, invites. */
export function generateSecretToken(): string {
	return encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20)));
}

/** What we store in place of a secret: its SHA-256, so a leaked table grants nothing. */
export function hashSecret(token: string): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(token)));
}
