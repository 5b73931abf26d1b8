import list from './common-passwords.txt?raw';

// The 10,000 most frequent passwords of public breach corpora plus every entry of at least ten
// characters found further down those lists, lower-cased (taken from the MIT-licensed zxcvbn
// frequency lists). Attackers try these first, in this order, so no length rule protects them.
const COMMON = new Set(list.split('\n').filter(Boolean));

/** Cracking tools mangle list entries with case changes and digits or symbols around them. */
const AROUND_WORD = /^[^a-z]+|[^a-z]+$/g;

/**
 * True for a password an attacker's wordlist would reach early: a list entry as is, a list entry
 * wrapped in digits or symbols ("Password2024!"), or one made of fewer than four distinct characters.
 */
export function isCommonPassword(password: string): boolean {
	const lower = password.normalize('NFKC').toLowerCase();
	if (COMMON.has(lower)) return true;
	if (new Set(lower).size < 4) return true;
	const word = lower.replace(AROUND_WORD, '');
	return word.length >= 4 && COMMON.has(word);
}

export const COMMON_PASSWORD_COUNT = COMMON.size;
