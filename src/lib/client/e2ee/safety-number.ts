// Safety numbers: what two people compare (read aloud, or side by side) to know that the devices in
// their conversation are each other's, and no one else's.
//
// The construction follows Signal's numeric fingerprint, with a set of device keys in place of one
// identity key. For each person, `input` is the label, then their user id, then their identity keys
// (the devices' Ed25519 public keys) sorted bytewise, each length-prefixed (4 bytes, big-endian),
// after the count of keys. Then hash = SHA-512(input), and 5199 more times
// hash = SHA-512(hash || input), which makes finding other keys with the same number costlier.
// The first 30 bytes of hash give 30 digits (six 5-byte big-endian chunks, each mod 100000, as 5
// digits); the next 3 bytes give 4 emoji (four 6-bit indices into EMOJI). The two people's parts
// are put in the order of their digits, so both compute the same number.

export type SafetyNumberSide = { userId: string; identityKeys: Uint8Array[] };
export type SafetyNumber = {
	/** 60 digits in 12 groups of 5, separated by spaces. */
	digits: string;
	/** 8 emoji, the same check in another form. */
	emoji: string[];
};

const LABEL = 'Parley safety number v1';
const ITERATIONS = 5200;

// 64 emoji that are easy to tell apart and to name (the list Matrix uses for emoji verification).
// prettier-ignore
const EMOJI = [
	'🐶', '🐱', '🦁', '🐎', '🦄', '🐷', '🐘', '🐰', '🐼', '🐓', '🐧', '🐢', '🐟', '🐙', '🦋', '🌷',
	'🌳', '🌵', '🍄', '🌏', '🌙', '☁️', '🔥', '🍌', '🍎', '🍓', '🌽', '🍕', '🎂', '❤️', '😀', '🤖',
	'🎩', '👓', '🔧', '🎅', '👍', '☂️', '⌛', '⏰', '🎁', '💡', '📕', '✏️', '📎', '✂️', '🔒', '🔑',
	'🔨', '☎️', '🏁', '🚂', '🚲', '✈️', '🚀', '🏆', '⚽', '🎸', '🎺', '🔔', '⚓', '🎧', '📁', '📌'
];

function lengthPrefixed(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
	const size = parts.reduce((sum, part) => sum + 4 + part.length, 0);
	const out = new Uint8Array(size);
	const view = new DataView(out.buffer);
	let offset = 0;
	for (const part of parts) {
		view.setUint32(offset, part.length);
		out.set(part, offset + 4);
		offset += 4 + part.length;
	}
	return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
	for (let i = 0; i < Math.min(a.length, b.length); i++) {
		if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
	}
	return a.length - b.length;
}

async function sha512(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
	return new Uint8Array(await crypto.subtle.digest('SHA-512', data));
}

async function fingerprint(side: SafetyNumberSide): Promise<{ digits: string; emoji: string[] }> {
	const text = new TextEncoder();
	const keys = [...side.identityKeys].sort(compareBytes);
	const count = new Uint8Array(4);
	new DataView(count.buffer).setUint32(0, keys.length);
	const input = lengthPrefixed([text.encode(LABEL), text.encode(side.userId), count, ...keys]);
	let hash = await sha512(input);
	for (let i = 1; i < ITERATIONS; i++) {
		const next = new Uint8Array(hash.length + input.length);
		next.set(hash);
		next.set(input, hash.length);
		hash = await sha512(next);
	}
	const view = new DataView(hash.buffer);
	let digits = '';
	for (let chunk = 0; chunk < 6; chunk++) {
		const value = view.getUint8(chunk * 5) * 2 ** 32 + view.getUint32(chunk * 5 + 1);
		digits += String(value % 100000).padStart(5, '0');
	}
	const bits = view.getUint32(29) & 0xffffff; // bytes 30, 31 and 32
	const emoji = [18, 12, 6, 0].map((shift) => EMOJI[(bits >> shift) & 0x3f] ?? '');
	return { digits, emoji };
}

/** The safety number of two people's conversation: the same whichever of them computes it. */
export async function safetyNumber(
	a: SafetyNumberSide,
	b: SafetyNumberSide
): Promise<SafetyNumber> {
	const sides = await Promise.all([fingerprint(a), fingerprint(b)]);
	sides.sort((x, y) => (x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : 0));
	const digits = sides.map((side) => side.digits).join('');
	return {
		digits: digits.match(/\d{5}/g)?.join(' ') ?? '',
		emoji: sides.flatMap((side) => side.emoji)
	};
}
