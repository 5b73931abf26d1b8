// Whether a person checked their safety number with someone (docs/e2ee.md): marking someone
// verified keeps a fingerprint of the device keys the number was computed from, and every later
// look compares it with the keys listed now. A device added or replaced since changes the
// fingerprint, so the mark no longer holds and the person is told to compare again.
//
// Light on purpose (no MLS code, the store by its type only): the room page asks it too.
import { encodeHexLowerCase } from '@oslojs/encoding';
import type { E2eeStore } from './keystore';

export type VerificationState = 'unverified' | 'verified' | 'changed';

/**
 * What one person's set of device identity keys (base64, in any order) is known by: SHA-256 of the
 * distinct keys sorted, one a line, in hex. Base64 has no line break, so no two sets read alike.
 */
export async function keyFingerprint(identityKeys: readonly string[]): Promise<string> {
	const keys = [...new Set(identityKeys)].sort();
	const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(keys.join('\n')));
	return encodeHexLowerCase(new Uint8Array(digest));
}

/**
 * Where `userId` stands with this person: never marked verified, verified with exactly these keys,
 * or marked verified with keys that `keys` (their identity keys as listed now) no longer are.
 */
export async function verificationState(
	store: Pick<E2eeStore, 'getVerified'>,
	userId: string,
	keys: readonly string[]
): Promise<VerificationState> {
	const kept = await store.getVerified(userId);
	if (kept === null) return 'unverified';
	return kept === (await keyFingerprint(keys)) ? 'verified' : 'changed';
}

/** The person compared the safety number made from `keys`, `userId`'s keys, and it matched. */
export async function markVerified(
	store: Pick<E2eeStore, 'setVerified'>,
	userId: string,
	keys: readonly string[]
): Promise<void> {
	await store.setVerified(userId, await keyFingerprint(keys));
}
