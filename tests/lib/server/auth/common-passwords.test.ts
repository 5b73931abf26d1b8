import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { COMMON_PASSWORD_COUNT, isCommonPassword } from '$lib/server/auth/common-passwords';
import { NewPassword } from '$lib/server/forms';

describe('the common password list', () => {
	it('ships thousands of entries', () => {
		expect(COMMON_PASSWORD_COUNT).toBeGreaterThan(10_000);
	});

	it('catches list entries long enough to pass the length rule, in any case', () => {
		for (const password of [
			'qwertyuiop',
			'1234567890',
			'Password123',
			'IloveYou123',
			'q1w2e3r4t5'
		]) {
			expect(isCommonPassword(password), password).toBe(true);
		}
	});

	it('catches list words padded with digits or symbols, and near-constant strings', () => {
		for (const password of [
			'Sunshine2024!',
			'!!monkey1234',
			'aaaaaaaaaaaa',
			'abababababab',
			'abcabcabcabc'
		]) {
			expect(isCommonPassword(password), password).toBe(true);
		}
	});

	it('lets ordinary long passphrases through', () => {
		for (const password of [
			'alice has a long password',
			'violet-teapot-ferry-92',
			'Kx7#pLq2!vWz'
		]) {
			expect(isCommonPassword(password), password).toBe(false);
		}
	});
});

describe('a new password', () => {
	const problem = (password: string) => {
		const result = v.safeParse(NewPassword, password);
		return result.success ? null : result.issues[0].message;
	};

	it('needs 10 to 256 characters', () => {
		expect(problem('Zx9!kq7#w')).toBe('Use at least 10 characters.');
		expect(problem('Zx9!kq7#wL')).toBeNull();
		expect(problem('Zx9!kq7#wL'.repeat(25) + 'abcdef')).toBeNull();
		expect(problem('Zx9!kq7#wL'.repeat(25) + 'abcdefg')).toBe('Use at most 256 characters.');
	});

	it('is refused when it is a common one', () => {
		expect(problem('password1234')).toBe(
			'That password is too common. Choose one that is harder to guess.'
		);
	});
});
