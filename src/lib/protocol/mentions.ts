// `@username` mentions. The room parses them to store whom a message mentions; the browser splits a
// body with the same rule to highlight them, so both ends always agree on what is a mention.

/** Usernames are 3 to 32 of letters, digits, "_" and "."; a trailing "." ends the sentence. */
const MENTION = /(^|[^\p{L}\p{N}_.@])@([A-Za-z0-9_.]{3,32})/gu;
export const MAX_MENTIONS = 20;

function trimName(name: string): string {
	return name.replace(/\.+$/, '');
}

/** The distinct usernames mentioned in a body, lower-cased (as usernames are compared). */
export function mentionedUsernames(body: string): string[] {
	if (!body.includes('@')) return [];
	const names = new Set<string>();
	for (const match of body.matchAll(MENTION)) {
		const name = trimName(match[2]!).toLowerCase();
		if (name.length >= 3) names.add(name);
		if (names.size >= MAX_MENTIONS) break;
	}
	return [...names];
}

export type BodySegment = { text: string; mention?: string };

/** A body cut into plain text and `@username` pieces (username lower-cased), for rendering. */
export function splitMentions(body: string): BodySegment[] {
	if (!body.includes('@')) return [{ text: body }];
	const segments: BodySegment[] = [];
	let at = 0;
	for (const match of body.matchAll(MENTION)) {
		const name = trimName(match[2]!);
		if (name.length < 3) continue;
		const start = match.index + match[1]!.length;
		if (start > at) segments.push({ text: body.slice(at, start) });
		segments.push({ text: `@${name}`, mention: name.toLowerCase() });
		at = start + 1 + name.length;
	}
	if (at < body.length) segments.push({ text: body.slice(at) });
	return segments;
}
