// The parts of the device's store that need no IndexedDB (workerd has none): how secrets are
// wrapped, and how text is split into the words the local search index keeps. The store itself
// is exercised in the browser by the end-to-end tests of encrypted conversations.
import { describe, expect, it } from 'vitest';
import {
	newWrappingKey,
	searchWords,
	unwrapSecret,
	wrapSecret,
	type WrappedSecret
} from '$lib/client/e2ee/keystore';

const secret = new TextEncoder().encode('a device’s signature key, say');

describe('wrapping secrets', () => {
	it('makes a key that script can use but never read out', async () => {
		const key = await newWrappingKey();
		expect(key.extractable).toBe(false);
		expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
		expect(key.usages.sort()).toEqual(['decrypt', 'encrypt']);
		await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
	});

	it('unwraps what it wrapped, with a fresh 12-byte IV each time and no secret in the clear', async () => {
		const key = await newWrappingKey();
		const one = await wrapSecret(key, secret, 'device');
		const two = await wrapSecret(key, secret, 'device');
		expect(one.iv).toHaveLength(12);
		expect(one.iv).not.toEqual(two.iv);
		expect(one.data).not.toEqual(two.data);
		// AES-GCM: the ciphertext plus a 16-byte tag.
		expect(one.data).toHaveLength(secret.length + 16);
		expect(new TextDecoder().decode(one.data)).not.toContain('signature key');
		expect(await unwrapSecret(key, one, 'device')).toEqual(secret);
		expect(await unwrapSecret(key, two, 'device')).toEqual(secret);
	});

	it('refuses a secret that was changed, moved to another slot, or wrapped with another key', async () => {
		const key = await newWrappingKey();
		const wrapped = await wrapSecret(key, secret, 'group:room-a');
		const flipped: WrappedSecret = { iv: wrapped.iv, data: wrapped.data.slice() };
		flipped.data[0]! ^= 1;
		await expect(unwrapSecret(key, flipped, 'group:room-a')).rejects.toThrow();
		await expect(unwrapSecret(key, wrapped, 'group:room-b')).rejects.toThrow();
		await expect(unwrapSecret(await newWrappingKey(), wrapped, 'group:room-a')).rejects.toThrow();
	});
});

describe('the words search finds', () => {
	it('lower-cases, drops diacritics and splits at anything but letters and digits', () => {
		expect(searchWords('Café au LAIT, s’il-vous-plaît! 2×3=6')).toEqual([
			'cafe',
			'au',
			'lait',
			's',
			'il',
			'vous',
			'plait',
			'2',
			'3',
			'6'
		]);
	});

	it('keeps each word once, and gives nothing for text without letters or digits', () => {
		expect(searchWords('Ho ho HO hö')).toEqual(['ho']);
		expect(searchWords(' …—!? 🎉 ')).toEqual([]);
		expect(searchWords('')).toEqual([]);
	});

	it('folds what a person types the way it folded the message', () => {
		// Composed and decomposed spellings of the same word, and other scripts.
		expect(searchWords('Zoë')).toEqual(searchWords('Zoe\u0308'));
		expect(searchWords('Ελληνικά ΛΈΞΕΙΣ')).toEqual(['ελληνικα', 'λεξεις']);
		expect(searchWords('Привет, мир')).toEqual(['привет', 'мир']);
		expect(searchWords('naïve résumé')).toEqual(searchWords('NAIVE Resume'));
	});
});
