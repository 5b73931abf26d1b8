import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { invalidate, invalidateAll } from '$app/navigation';
import {
	CONVERSATIONS_DEPENDENCY,
	compareConversations,
	type ConversationSummary
} from '$lib/conversations';
import { CloseCode } from '$shared/protocol';
import { parseHubPayload, type HubFrame } from '$shared/protocol/hub';
import { clearLocalData } from './local-data';
import { LiveSocket, socketUrl, type LiveSocketState, type SocketClose } from './live-socket';
import { RecentReads } from './recent-reads';

export type HubState = LiveSocketState;

/** A room's newest message as the sidebar shows it. */
export type RoomLatest = { seq: number; at: number; preview: string; senderName: string };

/** The newest thing a room told me (or showed me, while open) since the page's data was loaded. */
export type RoomNews = RoomLatest & {
	/**
	 * The first unread message told since the page's data was loaded or the room was last open;
	 * null when this tab has seen everything up to `seq` (the room is or was open).
	 */
	firstUnreadSeq: number | null;
	mentioned: boolean;
	/**
	 * This tab saw the message at `seq` change (edited or deleted while its room was open): the
	 * preview is newer than that of a conversation list naming the same seq.
	 */
	revised?: boolean;
};

/**
 * What this tab tells the person's other tabs (one browser, one session cookie: the same person):
 * a room it has open, and that room's newest message. The room tells the hub nothing while any tab
 * has it open, so without this the other tabs' rows for it would stay as they were.
 */
const SEEN_CHANNEL = 'parley:seen';
type SeenNote = { roomId: string; latest?: RoomLatest };

/** What a hub frame made stale: nothing, the conversation list, or everything on the page. */
type Stale = null | 'conversations' | 'all';

function widest(a: Stale, b: Stale): Stale {
	return a === 'all' || b === 'all' ? 'all' : (a ?? b);
}

/**
 * The browser's side of the user hub (`/ws/me`): one socket per tab, whatever page is open. It
 * keeps friends' presence, the incoming friend request count, and news from rooms (unread,
 * mentions, direct messages) as reactive state; lists that changed on the server are reloaded:
 * the page's data for friends and requests, the conversation list for memberships and for a
 * conversation this tab doesn't know yet.
 */
export class UserHubConnection {
	state = $state<HubState>('connecting');
	/** Friends' presence by user id; anyone missing is offline or not a friend. */
	presence = new SvelteMap<string, boolean>();
	/** Incoming friend requests; null until the hub has answered. */
	incomingRequests = $state<number | null>(null);
	news = new SvelteMap<string, RoomNews>();
	/** Rooms with a mention I have not opened since. */
	mentions = new SvelteSet<string>();
	/** Unread items in my notifications inbox; null until the hub has answered. */
	inboxUnread = $state<number | null>(null);
	/** Why this tab's hub socket stopped for good (other than a sign-out), for the person to read. */
	notice = $state<string | null>(null);

	#users = 0;
	// Bookkeeping only, never rendered.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#listeners = new Set<(frame: HubFrame) => void>();
	#tabs: BroadcastChannel | null = null;
	#live = new LiveSocket({
		url: () => socketUrl('/ws/me'),
		onState: (state) => (this.state = state),
		onMessage: (data) => this.#receive(data),
		onClose: (close) => this.#onClose(close)
	});
	/** Rooms the page's data knows: news from any other room means a list is out of date. */
	// Bookkeeping only, never rendered.
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#known = new Set<string>();
	#tracking = false;
	/**
	 * Rooms opened in this tab. The server's unread counts for them lag (read positions reach D1
	 * a moment later), and the room stops telling the hub while it is open, so their count is
	 * what the hub told since the last visit. Bookkeeping read by `apply`; `#visits` makes a
	 * change to it re-render.
	 */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#visited = new Set<string>();
	#visits = $state(0);
	/**
	 * Read positions this browser told rooms lately, kept across page loads: a page loaded before
	 * the room's flush brings them to D1 counts from them (see `recent-reads.ts`). Browser only.
	 */
	#reads = $state.raw<RecentReads | null>(null);

	isOnline(userId: string): boolean {
		return this.presence.get(userId) === true;
	}

	/**
	 * The sidebar's rows with what arrived live applied on top: newer previews and times, unread
	 * counts grown by the messages since, in the sidebar's order (`compareConversations`).
	 */
	apply(conversations: readonly ConversationSummary[]): ConversationSummary[] {
		this.#tracking = true;
		void this.#visits;
		// Set when the hub starts, after the first render: reading it here re-renders the rows then.
		const reads = this.#reads;
		for (const c of conversations) this.#known.add(c.id);
		return conversations
			.map((c) => {
				const news = this.news.get(c.id);
				const newer =
					news !== undefined &&
					(news.seq > c.lastMessageSeq || (news.seq === c.lastMessageSeq && news.revised === true));
				let row = newer
					? {
							...c,
							lastMessageSeq: news.seq,
							lastMessageAt: news.at,
							activeAt: Math.max(c.activeAt, news.at),
							lastMessagePreview: news.preview,
							unread: news.firstUnreadSeq === null ? 0 : c.unread + (news.seq - c.lastMessageSeq)
						}
					: c;
				if (reads && row.unread > 0) row = { ...row, unread: reads.unread(row) };
				if (!this.#visited.has(c.id)) return row;
				// A room tells the hub its first unread message, mentions and every direct message,
				// so since a visit the unread run starts at the first one told.
				const first = news?.firstUnreadSeq ?? null;
				return { ...row, unread: news && first !== null ? news.seq - first + 1 : 0 };
			})
			.sort(compareConversations);
	}

	/** This tab told the room I have read it up to `seq`: remembered across page loads. */
	noteRead(roomId: string, seq: number): void {
		this.#reads?.note(roomId, seq);
	}

	/** The room is open: what it told me is seen, here and in my other tabs. */
	markSeen(roomId: string): void {
		this.#markSeen(roomId);
		this.#tellTabs({ roomId });
	}

	#markSeen(roomId: string): void {
		const news = this.news.get(roomId);
		if (news) this.news.set(roomId, { ...news, firstUnreadSeq: null, mentioned: false });
		this.mentions.delete(roomId);
		if (!this.#visited.has(roomId)) {
			this.#visited.add(roomId);
			this.#visits++;
		}
	}

	/**
	 * The open room's newest message, which this tab shows and so has read. The room tells the hub
	 * nothing while it is open, so without this its own row would stay as it was until left.
	 */
	noteSeen(roomId: string, latest: RoomLatest): void {
		if (this.#noteSeen(roomId, latest)) this.#tellTabs({ roomId, latest });
	}

	/** Answers whether it changed anything. */
	#noteSeen(roomId: string, latest: RoomLatest): boolean {
		const previous = this.news.get(roomId);
		if (previous && previous.seq > latest.seq) return false;
		// The same message again is news only if it changed (edited or deleted).
		const revised = previous?.seq === latest.seq;
		if (revised && previous.preview === latest.preview) return false;
		this.news.set(roomId, { ...latest, firstUnreadSeq: null, mentioned: false, revised });
		this.mentions.delete(roomId);
		return true;
	}

	#tellTabs(note: SeenNote): void {
		this.#tabs?.postMessage(note);
	}

	#fromTab = (event: MessageEvent<SeenNote>): void => {
		const { roomId, latest } = event.data;
		if (latest) this.#noteSeen(roomId, latest);
		else this.#markSeen(roomId);
	};

	/**
	 * Counts the components that use the hub; the socket lives while at least one does. `userId`
	 * (the signed-in person) keys the read positions this browser remembers.
	 */
	start(userId?: string): () => void {
		this.#users++;
		if (userId && typeof localStorage !== 'undefined') {
			this.#reads = new RecentReads(localStorage, userId);
		}
		if (this.#users === 1) {
			this.#live.start();
			if (typeof BroadcastChannel !== 'undefined') {
				this.#tabs = new BroadcastChannel(SEEN_CHANNEL);
				this.#tabs.onmessage = this.#fromTab;
			}
		}
		return () => this.#stop();
	}

	#stop(): void {
		this.#users--;
		if (this.#users > 0) return;
		this.#live.stop();
		this.#tabs?.close();
		this.#tabs = null;
		// The next start may be another person's (sign out, sign in): nothing of this one stays.
		this.presence.clear();
		this.news.clear();
		this.mentions.clear();
		this.incomingRequests = null;
		this.#known.clear();
		this.#visited.clear();
		this.#reads = null;
		this.#tracking = false;
	}

	/** Answers whether to reconnect. */
	#onClose(close: SocketClose): boolean {
		if (close.code === CloseCode.TooManyConnections) {
			// Another try would be turned away too: say why and stay closed until a reload.
			this.notice = close.reason || 'Too many open tabs; close some tabs.';
			return false;
		}
		if (close.code !== CloseCode.SignedOut) return true;
		// This tab's session was signed out (here or from another device): whatever the page
		// shows, or this browser keeps, is no longer the person's to see.
		void clearLocalData().finally(() => location.assign('/login'));
		return false;
	}

	/**
	 * Calls `listener` with every frame the hub sends this tab, after the hub's own state has taken
	 * it in (browser notifications listen for room news). Answers the function that stops it.
	 */
	onFrame(listener: (frame: HubFrame) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	#receive(data: string): void {
		const frames = parseHubPayload(data);
		if (!frames) {
			console.warn('ignored a malformed frame from the user hub');
			return;
		}
		let stale: Stale = null;
		for (const frame of frames) stale = widest(stale, this.#handle(frame));
		for (const frame of frames) for (const listener of this.#listeners) listener(frame);
		if (stale === 'all') void invalidateAll();
		else if (stale === 'conversations') void invalidate(CONVERSATIONS_DEPENDENCY);
	}

	/** Applies a frame; answers which of the page's data is now out of date. */
	#handle(frame: HubFrame): Stale {
		switch (frame.type) {
			case 'welcome':
				this.presence.clear();
				for (const { userId, online } of frame.presence) this.presence.set(userId, online);
				this.incomingRequests = frame.incomingRequests;
				this.inboxUnread = frame.inboxUnread;
				return null;
			case 'inbox':
				this.inboxUnread = frame.unread;
				return null;
			case 'presence':
				this.presence.set(frame.userId, frame.online);
				return null;
			case 'requests':
				this.incomingRequests = frame.incoming;
				return 'all';
			case 'friends':
				return 'all';
			case 'membership':
				// Only the list: reloading the open room's page would replace what it shows about
				// the change (a removed member's notice) with a bare error page.
				return 'conversations';
			case 'room': {
				const previous = this.news.get(frame.roomId);
				// A signal that left the room before this tab showed the message is old news.
				const seen = previous?.firstUnreadSeq === null && previous.seq >= frame.seq;
				if (!previous || previous.seq < frame.seq) {
					this.news.set(frame.roomId, {
						seq: frame.seq,
						firstUnreadSeq: previous?.firstUnreadSeq ?? frame.seq,
						at: frame.at,
						preview: frame.preview,
						senderName: frame.senderName,
						mentioned: frame.reason === 'mention'
					});
				}
				if (frame.reason === 'mention' && !seen) this.mentions.add(frame.roomId);
				return this.#tracking && !this.#known.has(frame.roomId) ? 'conversations' : null;
			}
		}
	}
}

let shared: UserHubConnection | null = null;

/**
 * The tab's one hub connection, shared by every component that asks (sidebar, friends page...).
 * Browser only: call `start()` from `onMount` and its returned function on destroy.
 */
export function useUserHub(): UserHubConnection {
	shared ??= new UserHubConnection();
	return shared;
}
