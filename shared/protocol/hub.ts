// Frames of the user hub: one socket per tab at `/ws/me`, carrying what happens across all of a
// user's conversations and contacts. The hub only talks; the client sends nothing but heartbeats.
// Both ends validate what they receive, as for the room protocol.
import * as v from 'valibot';

/** Why a room told a member's hub about a message (never for every message: see UnreadSignals). */
export const RoomSignalReason = v.picklist(['unread', 'mention', 'reply', 'direct']);
export type RoomSignalReason = v.InferOutput<typeof RoomSignalReason>;

export const PresenceEntry = v.object({ userId: v.string(), online: v.boolean() });

export const HubWelcomeFrame = v.object({
	type: v.literal('welcome'),
	userId: v.string(),
	incomingRequests: v.number(),
	/** Unread items in the notifications inbox. */
	inboxUnread: v.number(),
	/** Friends' presence as the hub knows it when the tab connects. */
	presence: v.array(PresenceEntry)
});

export const HubPresenceFrame = v.object({
	type: v.literal('presence'),
	userId: v.string(),
	online: v.boolean()
});

/** The number of friend requests waiting for me changed. */
export const HubRequestsFrame = v.object({
	type: v.literal('requests'),
	incoming: v.number()
});

/** My friends list changed (accepted, removed, blocked): lists shown on screen are out of date. */
export const HubFriendsFrame = v.object({ type: v.literal('friends') });

/** A conversation has news for me: it became unread, mentioned me, or is a direct message. */
export const HubRoomFrame = v.object({
	type: v.literal('room'),
	roomId: v.string(),
	reason: RoomSignalReason,
	seq: v.number(),
	at: v.number(),
	senderName: v.string(),
	preview: v.string(),
	/** The room's name; empty for a direct room, whose title is the other person. */
	roomName: v.string(),
	/** How many messages this signal stands for (those merged into it since the last one). */
	count: v.number(),
	/**
	 * Whether it may alert: the member's level for the room lets this reason through and the sender
	 * is not someone they blocked. Do not disturb and what is on screen are decided where it lands
	 * (`shared/notify.ts`).
	 */
	alert: v.boolean()
});

/** The number of unread items in my notifications inbox changed (new items, or read elsewhere). */
export const HubInboxFrame = v.object({
	type: v.literal('inbox'),
	unread: v.number()
});

/** I was added to, removed from or banned from a room, or it changed or was deleted. */
export const HubMembershipFrame = v.object({
	type: v.literal('membership'),
	roomId: v.string(),
	change: v.picklist(['added', 'removed', 'banned', 'left', 'deleted', 'updated'])
});

export const HubFrame = v.variant('type', [
	HubWelcomeFrame,
	HubPresenceFrame,
	HubRequestsFrame,
	HubFriendsFrame,
	HubRoomFrame,
	HubInboxFrame,
	HubMembershipFrame
]);
export type HubFrame = v.InferOutput<typeof HubFrame>;
/** What the app and the rooms may push to a user's tabs (the welcome is the hub's own). */
export type HubEvent = Exclude<HubFrame, { type: 'welcome' }>;

/** Parses a payload from the hub: one frame or an array of them. Never throws. */
export function parseHubPayload(raw: string): HubFrame[] | null {
	let data: unknown;
	try {
		data = JSON.parse(raw);
	} catch {
		return null;
	}
	const result = v.safeParse(v.union([HubFrame, v.array(HubFrame)]), data);
	if (!result.success) return null;
	return Array.isArray(result.output) ? result.output : [result.output];
}
