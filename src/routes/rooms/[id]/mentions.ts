// The `@name` completion of the composer: which word is being typed, and who it could mean.

export type Mentionable = { username: string; displayName: string };

/** Same characters as the mention parser accepts, so what is completed is also what is found. */
const TYPING_MENTION = /(?:^|[^\p{L}\p{N}_.@])@([A-Za-z0-9_.]{0,32})$/u;

/**
 * The `@word` that ends at the caret (with no selection), as the span to replace and the letters
 * typed so far; null when the caret is not in one.
 */
export function mentionAt(
	text: string,
	selectionStart: number,
	selectionEnd: number
): { start: number; end: number; query: string } | null {
	if (selectionStart !== selectionEnd) return null;
	const match = TYPING_MENTION.exec(text.slice(0, selectionStart));
	if (!match) return null;
	const query = match[1]!;
	// The rest of the word after the caret is part of what a choice replaces.
	const after = /^[A-Za-z0-9_.]*/.exec(text.slice(selectionStart))![0];
	return { start: selectionStart - query.length - 1, end: selectionStart + after.length, query };
}

/** People whose username or a word of whose display name starts with the query, best first. */
export function mentionCandidates<P extends Mentionable>(
	people: readonly P[],
	query: string,
	limit: number
): P[] {
	const q = query.toLowerCase();
	const rank = (person: P): number => {
		const username = person.username.toLowerCase();
		if (username.startsWith(q)) return 0;
		const words = person.displayName.toLowerCase().split(/\s+/);
		if (words.some((word) => word.startsWith(q))) return 1;
		return -1;
	};
	return people
		.map((person) => ({ person, rank: rank(person) }))
		.filter((entry) => entry.rank >= 0)
		.sort((a, b) => a.rank - b.rank || a.person.username.localeCompare(b.person.username))
		.slice(0, limit)
		.map((entry) => entry.person);
}
