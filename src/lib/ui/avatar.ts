// Avatars without images: initials on a colour that is the same for a person everywhere. Every
// colour keeps white initials above 4.5:1 contrast, in light and dark themes alike.
const COLOURS = [
	'#b91c1c',
	'#c2410c',
	'#a16207',
	'#15803d',
	'#0f766e',
	'#0369a1',
	'#1d4ed8',
	'#6d28d9',
	'#a21caf',
	'#be123c'
] as const;

/** Up to two letters: the first of the first two words ("Ada Lovelace" → "AL"). */
export function initials(name: string): string {
	const words = name
		.trim()
		.split(/[\s._-]+/u)
		.filter(Boolean);
	const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? '');
	return letters.join('').toLocaleUpperCase() || '?';
}

/** FNV-1a: a small, stable hash, so a seed maps to the same colour on every device. */
function hash(seed: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < seed.length; i++) {
		h ^= seed.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

export function avatarColour(seed: string): string {
	return COLOURS[hash(seed) % COLOURS.length]!;
}

export const AVATAR_COLOURS: readonly string[] = COLOURS;
