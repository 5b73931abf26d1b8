import { describe, expect, it } from 'vitest';
import { safetyNumber, type SafetyNumberSide } from '$lib/client/e2ee/safety-number';

const key = (fill: number) => new Uint8Array(32).fill(fill);
const randomKey = () => crypto.getRandomValues(new Uint8Array(32));

describe('safetyNumber', () => {
	it('is 60 digits in 12 groups of 5, and 8 emoji', async () => {
		const number = await safetyNumber(
			{ userId: 'alice', identityKeys: [randomKey()] },
			{ userId: 'bob', identityKeys: [randomKey(), randomKey()] }
		);
		expect(number.digits).toMatch(/^(\d{5} ){11}\d{5}$/);
		expect(number.emoji).toHaveLength(8);
		for (const emoji of number.emoji) expect(emoji).not.toBe('');
	});

	it('is the same whichever side computes it, in whatever order it lists the keys', async () => {
		const alice = { userId: 'alice', identityKeys: [randomKey()] };
		const [one, two] = [randomKey(), randomKey()];
		const number = await safetyNumber(alice, { userId: 'bob', identityKeys: [one, two] });
		expect(await safetyNumber({ userId: 'bob', identityKeys: [two, one] }, alice)).toEqual(number);
	});

	it('changes when any device key changes, or a device is added', async () => {
		const alice = { userId: 'alice', identityKeys: [randomKey()] };
		const [one, two] = [randomKey(), randomKey()];
		const number = await safetyNumber(alice, { userId: 'bob', identityKeys: [one, two] });
		const changed: SafetyNumberSide[] = [
			{ userId: 'bob', identityKeys: [one, randomKey()] },
			{ userId: 'bob', identityKeys: [one, two, randomKey()] },
			{ userId: 'bob', identityKeys: [one] }
		];
		for (const bob of changed) {
			const other = await safetyNumber(alice, bob);
			expect(other.digits).not.toBe(number.digits);
			expect(other.emoji).not.toEqual(number.emoji);
		}
		const newAlice = await safetyNumber(
			{ userId: 'alice', identityKeys: [randomKey()] },
			{ userId: 'bob', identityKeys: [one, two] }
		);
		expect(newAlice.digits).not.toBe(number.digits);
	});

	it('binds the keys to the person: the same keys under another user id give another number', async () => {
		const keys = [randomKey()];
		const bob = { userId: 'bob', identityKeys: [randomKey()] };
		const asAlice = await safetyNumber({ userId: 'alice', identityKeys: keys }, bob);
		const asMallory = await safetyNumber({ userId: 'mallory', identityKeys: keys }, bob);
		expect(asMallory.digits).not.toBe(asAlice.digits);
	});

	it('keeps its construction: a fixed pair gives the number computed outside the app', async () => {
		// Computed with node:crypto from the construction described in safety-number.ts. A change
		// here means clients of different versions would show different numbers for the same keys.
		expect(
			await safetyNumber(
				{ userId: 'alice', identityKeys: [key(1)] },
				{ userId: 'bob', identityKeys: [key(3), key(2)] }
			)
		).toEqual({
			digits: '27716 27420 27767 97264 90849 04944 45597 56348 98133 26951 23431 99963',
			emoji: ['📎', '🎅', '⌛', '📁', '🌏', '🌵', '🌙', '🔥']
		});
	});
});
