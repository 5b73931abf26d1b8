// Words for who is here and who is typing, shared by the room's header, member list and timeline.
import type { PresenceState } from '$shared/protocol';

/** "Alice is typing…", "Alice and Bob are typing…", "Several people are typing…". */
export function describeTyping(names: string[]): string | null {
	if (names.length === 0) return null;
	if (names.length === 1) return `${names[0]} is typing…`;
	if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
	return 'Several people are typing…';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "Online", "Away", "Last seen 5 min ago", "Last seen yesterday", "Offline". */
export function describePresence(
	state: PresenceState,
	lastSeenAt: number | null,
	now = Date.now()
): string {
	if (state === 'online') return 'Online';
	if (state === 'away') return 'Away';
	if (lastSeenAt === null) return 'Offline';
	const ago = Math.max(0, now - lastSeenAt);
	if (ago < MINUTE) return 'Last seen just now';
	if (ago < HOUR) return `Last seen ${Math.floor(ago / MINUTE)} min ago`;
	if (ago < DAY) {
		const hours = Math.floor(ago / HOUR);
		return `Last seen ${hours} ${hours === 1 ? 'hour' : 'hours'} ago`;
	}
	if (ago < 2 * DAY) return 'Last seen yesterday';
	const date = new Date(lastSeenAt).toLocaleDateString(undefined, {
		day: 'numeric',
		month: 'short'
	});
	return `Last seen ${date}`;
}
