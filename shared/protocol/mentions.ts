// `@username` mentions: the room parses them to store whom a message mentions (the browser then
// highlights exactly those).

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
