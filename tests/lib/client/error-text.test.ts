import { describe, expect, it } from 'vitest';
import { ERROR_TEXT, UNKNOWN_ERROR_TEXT, errorText } from '$lib/client/error-text';
import { ErrorCode } from '$shared/protocol';

/** Words of the wire and of code, which mean nothing to the person reading. */
const JARGON = /frame|payload|\bseq\b|clientid|hello|socket|protocol|json|bytes|rate.?limit/i;

describe('errorText', () => {
	it('has a sentence for people for every error code the protocol defines', () => {
		for (const code of Object.values(ErrorCode)) {
			const text = errorText({ code });
			expect(text, code).toBe(ERROR_TEXT[code]);
			expect(text, code).toMatch(/^[A-Z].*[.!]$/);
			expect(text, code).not.toMatch(JARGON);
		}
		expect(Object.keys(ERROR_TEXT).sort()).toEqual(Object.values(ErrorCode).sort());
	});

	it('says what a person can do when they send too fast', () => {
		expect(errorText({ code: ErrorCode.RateLimited })).toBe(
			'You’re sending very fast — wait a moment and try again.'
		);
	});

	it('never passes on words it was not written for: an unknown code gets a plain sentence', () => {
		expect(errorText({ code: 'quota_exceeded' })).toBe(UNKNOWN_ERROR_TEXT);
		expect(errorText({ code: 'toString' })).toBe(UNKNOWN_ERROR_TEXT);
		expect(UNKNOWN_ERROR_TEXT).not.toMatch(JARGON);
	});
});
