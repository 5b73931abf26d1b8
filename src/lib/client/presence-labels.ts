// Words for who is here and who is typing, shared by the room's header, member list and timeline.
import type { PresenceEntry, PresenceState } from '$shared/protocol';

/** Where someone is, as every part of the page shows it. */
export type Presence = { state: PresenceState; lastSeenAt: number | null };

/**
 * One person's presence from the two things a page hears: the room's own presence (online or away
 * in this room, or offline with when they were last here) and the user hub's online flag (a
 * friend with Parley open anywhere, which the sidebar's dot shows). Here (online or away) wins;
 * else the hub's online says online; else offline, with the room's last-seen time.
 */
export function presenceOf(
	inRoom: Pick<PresenceEntry, 'state' | 'lastSeenAt'> | undefined,
	onlineElsewhere: boolean
): Presence {
	if (inRoom && inRoom.state !== 'offline') return { state: inRoom.state, lastSeenAt: null };
	if (onlineElsewhere) return { state: 'online', lastSeenAt: null };
	return { state: 'offline', lastSeenAt: inRoom?.lastSeenAt ?? null };
}

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
