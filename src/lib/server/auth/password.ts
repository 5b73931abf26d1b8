import { scrypt } from 'node:crypto';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';

// scrypt through nodejs_compat is native in workerd. WebCrypto PBKDF2 would be the other choice, but
// production Workers reject more than 100,000 iterations while local workerd does not, so a strong
// count would pass every test here and fail in production.
// Parameters follow OWASP's scrypt guidance for 16 MiB of memory (N=2^14, r=8, p=5). They are stored
// in each hash, so they can be raised later without breaking existing passwords.
const PARAMS = { N: 2 ** 14, r: 8, p: 5 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

function derive(
	password: string,
	salt: Uint8Array,
	params: { N: number; r: number; p: number },
	keyLength: number
): Promise<Uint8Array> {
	return new Promise((resolve, reject) => {
		scrypt(
			password.normalize('NFKC'),
			salt,
			keyLength,
			{ ...params, maxmem: 256 * params.N * params.r },
			(err, key) => (err ? reject(err) : resolve(new Uint8Array(key)))
		);
	});
}

/** Returns `scrypt$N$r$p$salt$hash` (salt and hash in base64). */
export async function hashPassword(password: string): Promise<string> {
	const salt = crypto.getRandomValues(new Uint8Array(SALT_LENGTH));
	const key = await derive(password, salt, PARAMS, KEY_LENGTH);
	return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, encodeBase64(salt), encodeBase64(key)].join('$');
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
	const parts = hash.split('$');
	if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
	const [N, r, p] = parts.slice(1, 4).map(Number);
	if (!N || !r || !p) return false;
	const expected = decodeBase64(parts[5]!);
	const key = await derive(password, decodeBase64(parts[4]!), { N, r, p }, expected.length);
	return constantTimeEqual(key, expected);
}

/** True when the hash was made with weaker parameters than today's and should be replaced. */
export function needsRehash(hash: string): boolean {
	const [, N, r, p] = hash.split('$').map(Number);
	return N !== PARAMS.N || r !== PARAMS.r || p !== PARAMS.p;
}
