// What the browser knows of one of my conversations: the sidebar's rows. Shared by the server
// (which builds it) and the client (which renders it and keeps it live).

/** What the root layout's list of conversations depends on: invalidate it to reload the sidebar. */
export const CONVERSATIONS_DEPENDENCY = 'app:conversations';

/** What a room page's member list depends on: invalidate it when the room says it has changed. */
export const ROOM_MEMBERS_DEPENDENCY = 'app:room-members';

export type ConversationKind = 'direct' | 'group' | 'public';

export type ConversationSummary = {
	id: string;
	kind: ConversationKind;
	/** For direct rooms, the other person's display name. */
	name: string;
	/** For direct rooms, the other person. */
	peer: { id: string; username: string; displayName: string } | null;
	/**
	 * The room's icon, or for a direct room the other person's picture (`/files/<id>`); null or
	 * absent: initials.
	 */
	picture?: string | null;
	lastMessageAt: number | null;
	/** The last message's time, or the room's creation before any: the list's order. */
	activeAt: number;
	lastMessagePreview: string;
	lastMessageSeq: number;
	unread: number;
	pinned: boolean;
	archived: boolean;
	notify: 'all' | 'mentions' | 'mute';
	/** End-to-end encrypted (docs/e2ee.md): its row shows a lock. */
	encrypted: boolean;
};

/**
 * The sidebar's order: pinned first, then the most recently active, with muted conversations
 * below the others (they still count unread, but stay quiet and out of the way).
 */
export function compareConversations(
	a: Pick<ConversationSummary, 'pinned' | 'notify' | 'activeAt'>,
	b: Pick<ConversationSummary, 'pinned' | 'notify' | 'activeAt'>
): number {
	return (
		Number(b.pinned) - Number(a.pinned) ||
		Number(a.notify === 'mute') - Number(b.notify === 'mute') ||
		b.activeAt - a.activeAt
	);
}
