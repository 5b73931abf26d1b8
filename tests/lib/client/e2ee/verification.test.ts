// A safety number checked with someone holds for the device keys it was made from, and for no
// others: a device they add, replace or remove since shows as changed, never as verified.
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '@oslojs/encoding';
import { keyFingerprint, markVerified, verificationState } from '$lib/client/e2ee/verification';

const newKey = () => encodeBase64(crypto.getRandomValues(new Uint8Array(32)));

/** The store's verified marks, as `E2eeStore` keeps them (which needs IndexedDB, absent here). */
class Marks {
	readonly kept = new Map<string, string>();
	async getVerified(userId: string): Promise<string | null> {
		return this.kept.get(userId) ?? null;
	}
	async setVerified(userId: string, fingerprint: string | null): Promise<void> {
		if (fingerprint === null) this.kept.delete(userId);
		else this.kept.set(userId, fingerprint);
	}
}

describe('keyFingerprint', () => {
	it('is SHA-256 of the sorted keys, one a line, in lower-case hex', async () => {
		const [a, b] = [newKey(), newKey()];
		const sorted = [a, b].sort().join('\n');
		const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(sorted));
		const hex = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0'));
		expect(await keyFingerprint([a, b])).toBe(hex.join(''));
		expect(await keyFingerprint([a, b])).toMatch(/^[0-9a-f]{64}$/);
	});

	it('is the same in any order, and for a key listed twice', async () => {
		const [a, b, c] = [newKey(), newKey(), newKey()];
		const fingerprint = await keyFingerprint([a, b, c]);
		expect(await keyFingerprint([c, a, b])).toBe(fingerprint);
		expect(await keyFingerprint([b, c, a, b])).toBe(fingerprint);
	});

	it('differs when a key is added, replaced or taken away', async () => {
		const [a, b] = [newKey(), newKey()];
		const fingerprint = await keyFingerprint([a, b]);
		for (const other of [[a, b, newKey()], [a, newKey()], [a], []]) {
			expect(await keyFingerprint(other)).not.toBe(fingerprint);
		}
	});

	it('does not read two keys as one joined key', async () => {
		expect(await keyFingerprint(['QUJD', 'REVG'])).not.toBe(await keyFingerprint(['QUJDREVG']));
	});
});

describe('verificationState', () => {
	it('is unverified until marked, then verified for the same keys in any order', async () => {
		const marks = new Marks();
		const [a, b] = [newKey(), newKey()];
		expect(await verificationState(marks, 'bob', [a, b])).toBe('unverified');
		await markVerified(marks, 'bob', [a, b]);
		expect(await verificationState(marks, 'bob', [b, a])).toBe('verified');
	});

	it('is changed once their keys are not those marked, and verified again once re-marked', async () => {
		const marks = new Marks();
		const [a, b] = [newKey(), newKey()];
		await markVerified(marks, 'bob', [a]);
		expect(await verificationState(marks, 'bob', [a, b])).toBe('changed');
		expect(await verificationState(marks, 'bob', [b])).toBe('changed');
		expect(await verificationState(marks, 'bob', [])).toBe('changed');
		// Asking changes nothing: the warning stays until the number is compared again.
		expect(await verificationState(marks, 'bob', [a, b])).toBe('changed');
		await markVerified(marks, 'bob', [a, b]);
		expect(await verificationState(marks, 'bob', [a, b])).toBe('verified');
	});

	it('keeps each person’s mark to that person', async () => {
		const marks = new Marks();
		const key = newKey();
		await markVerified(marks, 'bob', [key]);
		expect(await verificationState(marks, 'cleo', [key])).toBe('unverified');
	});
});
