import {
	AWAY_AFTER_MS,
	CloseCode,
	ErrorCode,
	REPLY_SNIPPET_LENGTH,
	TYPING_INTERVAL_MS,
	checkMessageBody,
	parseServerPayload,
	type ChatMessage,
	type ClientFrame,
	type MemberEntry,
	type PresenceEntry,
	type ReceiptEntry,
	type ReplyPreview,
	type ServerFrame,
	type TypingUser
} from '$shared/protocol';
import { plainPreview } from '$shared/preview';
import { HistoryPage, HistoryWindow, fetchHistory } from './history';
import { LiveSocket, socketUrl, type LiveSocketState, type SocketClose } from './live-socket';
import { Outbox, type OutboxEntry } from './outbox';
import { SendWindow } from './send-window';
import type { RoomLatest } from './user-hub.svelte';

export type ConnectionState = LiveSocketState;

/** Where one of my messages is: `sent` once the room has it durably, then delivered, then read. */
export type OwnStatus = 'sent' | 'delivered' | 'read';

/** One of my messages that is not in the timeline yet. */
export type PendingMessage = {
	clientId: string;
	body: string;
	replyTo?: ReplyPreview;
	createdAt: number;
	/** `pending`: waiting for the room (or the network); `sent`: acknowledged, on its way back. */
	status: 'pending' | 'sent' | 'failed';
	error?: string;
};

export type { HistoryWindow } from './history';

export type RoomConnectionInit = {
	roomId: string;
	userId: string;
	history: HistoryWindow;
	/** How far I had read when the page loaded: the "new messages" divider goes after it. */
	readSeq: number;
	/** The room's revision read before the history: changes after it come with the first hello. */
	rev: number;
	/** The room's count of membership changes, read before the page's member list. */
	membersRev: number;
	/**
	 * Told each message newer than any before it (the loaded history's newest first), and each
	 * change to the newest one, as the sidebar shows it: the room's own row follows what is said
	 * while it is open.
	 */
	onNewest?: (latest: RoomLatest) => void;
	/**
	 * Membership changed while this tab was not connected (it missed a `members` frame): the member
	 * list it loaded is stale, and `memberChanges` starts afresh.
	 */
	onMembersStale?: () => void;
};

const READ_DEBOUNCE_MS = 300;
/** Messages and changes kept for parts of the timeline that are not loaded yet. */
const KEEP_OUTSIDE_WINDOW = 1000;
const TOO_MANY_CONNECTIONS = 'Too many open connections to this room; close some tabs.';

/**
 * The browser's side of one room: owns the socket, reconnects with jittered exponential backoff,
 * resumes from the last `seq` (and `rev`, for edits) it has without a gap, and keeps unsent
 * messages in an IndexedDB outbox, each sent with its `clientId` until the room acknowledges it
 * (the room answers a resend with the original `seq`, so nothing doubles). They go out through a
 * send window (`send-window.ts`), so that they take their `seq`s in the order they were written.
 *
 * The timeline is a contiguous window of the room's messages. Usually it reaches the newest
 * ("live"); after a jump to an old message it may not (`hasNewer`), and the socket's messages wait
 * aside until paging forward meets them.
 */
export class RoomConnection {
	messages = $state.raw<ChatMessage[]>([]);
	pending = $state<PendingMessage[]>([]);
	state = $state<ConnectionState>('connecting');
	notice = $state<string | null>(null);
	hasOlder = $state(false);
	hasNewer = $state(false);
	loadingOlder = $state(false);
	loadingNewer = $state(false);
	presence = $state.raw<Record<string, PresenceEntry>>({});
	/** Membership since the page loaded: who was added (their entry) and who left (null). */
	memberChanges = $state.raw<Record<string, MemberEntry | null>>({});
	receipts = $state.raw<Record<string, ReceiptEntry>>({});
	/** Others typing now. */
	typing = $state.raw<TypingUser[]>([]);
	/** Whether I share read receipts (and so see others'). */
	readReceipts = $state(true);
	/** The newest seq the room is known to have. */
	roomLastSeq = $state(0);
	/** My read position, as far as this tab knows. */
	readSeq = $state(0);
	/**
	 * Where the "new messages" divider goes: the first message from someone else that was unread
	 * when the person arrived (opened the room, or came back to the tab). Messages that arrive
	 * while they watch are read as they come, and move nothing.
	 */
	dividerSeq = $state<number | null>(null);

	/** Other members' read positions, furthest first (empty when receipts are off). */
	readers = $derived.by(() => {
		if (!this.readReceipts) return [];
		return Object.values(this.receipts)
			.filter((r) => r.userId !== this.#userId && r.readSeq !== null && r.readSeq > 0)
			.sort((a, b) => (b.readSeq ?? 0) - (a.readSeq ?? 0));
	});
	#othersOnline = $derived(
		Object.values(this.presence).some((p) => p.userId !== this.#userId && p.state !== 'offline')
	);
	#furthestDelivered = $derived(
		Object.values(this.receipts).reduce(
			(max, r) => (r.userId === this.#userId ? max : Math.max(max, r.deliveredSeq)),
			0
		)
	);

	#roomId: string;
	#userId: string;
	#onNewest: ((latest: RoomLatest) => void) | undefined;
	#onMembersStale: (() => void) | undefined;
	/** The room's count of membership changes as this tab last heard it. */
	#membersRev: number;
	/** The newest message told to `onNewest`. */
	#newestSeq = 0;
	#live: LiveSocket;
	#outbox: Outbox | null = null;
	// Bookkeeping only: what renders is `messages` and `pending`, so these need not be reactive.
	/* eslint-disable svelte/prefer-svelte-reactivity */
	/** Put-promises of outbox entries, so that a delete never races ahead of its put. */
	#saving = new Map<string, Promise<void>>();
	/** Socket messages beyond the window, waiting for paging to meet them. */
	#ahead = new Map<number, ChatMessage>();
	/** Changes to messages that are not loaded, applied when they are. */
	#laterUpdates = new Map<number, ChatMessage>();
	/* eslint-enable svelte/prefer-svelte-reactivity */
	/** Every change up to this room revision has reached this tab. */
	#lastRev = 0;
	#welcomed = false;
	/** My pending messages that the room has not acknowledged, in the order they go out. */
	#sendWindow = new SendWindow<OutboxEntry>();
	/**
	 * Nothing is transmitted before the outbox has been read: what an earlier visit left unsent
	 * was written first, and goes first.
	 */
	#outboxRestored = false;
	/** The one wait the room asked for after refusing sends over its rate limit. */
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#readTimer: ReturnType<typeof setTimeout> | undefined;
	#readSent = 0;
	#typingSentAt = 0;
	#away = false;
	#lastActivityAt = 0;
	#idleTimer: ReturnType<typeof setTimeout> | undefined;
	#pagingForward = false;
	/** Someone shows every member's last-seen time: ask on every connection (the room answers once). */
	#wantsLastSeen = false;
	/** Asked on the current socket; its answer follows its welcome, which replaces the presence. */
	#askedLastSeen = false;

	constructor(init: RoomConnectionInit) {
		this.#roomId = init.roomId;
		this.#userId = init.userId;
		this.#onNewest = init.onNewest;
		this.#onMembersStale = init.onMembersStale;
		this.#membersRev = init.membersRev;
		this.#live = new LiveSocket({
			url: () => socketUrl(`/ws/room/${this.#roomId}`),
			onState: (state) => (this.state = state),
			onOpen: () => this.#onOpen(),
			onMessage: (data) => this.#receive(data),
			onClose: (close) => this.#onClose(close)
		});
		this.messages = init.history.messages;
		this.hasOlder = init.history.hasOlder;
		this.hasNewer = init.history.hasNewer;
		this.readSeq = init.readSeq;
		this.#readSent = init.readSeq;
		this.#lastRev = init.rev;
		this.refreshDivider();
		this.roomLastSeq = init.history.messages.at(-1)?.seq ?? 0;
	}

	get userId(): string {
		return this.#userId;
	}

	/** The seq everything up to which this tab has, in a live window. */
	get #lastSeq(): number {
		return this.messages.at(-1)?.seq ?? 0;
	}

	connect(): void {
		document.addEventListener('visibilitychange', this.#onActivity);
		for (const event of ['pointerdown', 'keydown', 'pointermove', 'focus'] as const) {
			window.addEventListener(event, this.#onActivity, { passive: true });
		}
		this.#lastActivityAt = Date.now();
		this.#away = document.visibilityState === 'hidden';
		this.#armIdleTimer();
		this.#outbox = new Outbox();
		if (!this.hasNewer) this.#noteNewest(this.messages);
		this.#live.start();
		void this.#restoreOutbox();
	}

	close(): void {
		document.removeEventListener('visibilitychange', this.#onActivity);
		for (const event of ['pointerdown', 'keydown', 'pointermove', 'focus'] as const) {
			window.removeEventListener(event, this.#onActivity);
		}
		for (const timer of [this.#retryTimer, this.#readTimer, this.#idleTimer]) clearTimeout(timer);
		this.#live.stop();
	}

	// ---- what the person does ----

	/** Queues a message (in the outbox) and sends it when it can. Returns an error for bad input. */
	send(body: string, replyTo?: ChatMessage): string | null {
		const invalid = checkMessageBody(body);
		if (invalid) return invalid.message;
		const entry: OutboxEntry = {
			clientId: newClientId(),
			roomId: this.#roomId,
			userId: this.#userId,
			body,
			replyTo: replyTo?.seq,
			createdAt: Date.now()
		};
		this.pending.push({
			clientId: entry.clientId,
			body,
			replyTo: replyTo && previewOf(replyTo),
			createdAt: entry.createdAt,
			status: 'pending'
		});
		this.#save(entry);
		this.#typingSentAt = 0;
		// My message goes at the end: show the end.
		if (this.hasNewer) void this.jumpToLatest();
		this.#sendWindow.add(entry);
		this.#pump();
		return null;
	}

	retry(clientId: string): void {
		const message = this.pending.find((m) => m.clientId === clientId);
		if (!message) return;
		message.status = 'pending';
		message.error = undefined;
		const entry = this.#entryOf(message);
		this.#save(entry);
		this.#sendWindow.add(entry);
		this.#pump();
	}

	discard(clientId: string): void {
		this.pending = this.pending.filter((m) => m.clientId !== clientId);
		if (this.#sendWindow.remove(clientId)) this.#pump();
		void this.#forgetEntry(clientId);
	}

	/** Changes one of my messages. Returns an error when it cannot be done now. */
	edit(seq: number, body: string): string | null {
		const invalid = checkMessageBody(body);
		if (invalid) return invalid.message;
		return this.#command({ type: 'edit', seq, body });
	}

	remove(seq: number): string | null {
		return this.#command({ type: 'delete', seq });
	}

	react(seq: number, emoji: string, on: boolean): string | null {
		return this.#command({ type: 'react', seq, emoji, on });
	}

	/** Called as the person types: tells the room at most once every few seconds. */
	typingNow(): void {
		const now = Date.now();
		if (now - this.#typingSentAt < TYPING_INTERVAL_MS) return;
		if (this.#frame({ type: 'typing' })) this.#typingSentAt = now;
	}

	/** The person has seen everything up to `seq`. */
	markRead(seq: number): void {
		if (seq <= this.readSeq) return;
		this.readSeq = seq;
		if (this.#readTimer !== undefined) return;
		this.#readTimer = setTimeout(() => {
			this.#readTimer = undefined;
			this.#sendRead();
		}, READ_DEBOUNCE_MS);
	}

	/**
	 * The person asked for the whole room to count as read: up to the newest message the room has,
	 * loaded or not, told to the room at once rather than after the usual pause.
	 */
	markAllRead(): void {
		const latest = Math.max(this.roomLastSeq, this.messages.at(-1)?.seq ?? 0);
		this.dividerSeq = null;
		if (latest <= this.readSeq) return;
		this.readSeq = latest;
		clearTimeout(this.#readTimer);
		this.#readTimer = undefined;
		this.#sendRead();
	}

	/**
	 * The person arrives (or comes back): the divider moves to the first message from someone else
	 * they have not read, if there is one; `always` also clears it when there is none.
	 */
	refreshDivider(always = false): void {
		const first = this.messages.find(
			(m) => m.seq > this.readSeq && m.senderId !== this.#userId && m.kind === 'text'
		);
		if (first || always) this.dividerSeq = first?.seq ?? null;
	}

	/** Where one of my messages is, as far as this tab knows. */
	statusOf(message: ChatMessage): OwnStatus | null {
		if (message.senderId !== this.#userId || message.kind !== 'text') return null;
		if ((this.readers[0]?.readSeq ?? 0) >= message.seq) return 'read';
		// Someone online gets each message as it is sent; others got what was sent before they left.
		if (this.#othersOnline || this.#furthestDelivered >= message.seq) return 'delivered';
		return 'sent';
	}

	/** A message of the timeline, if it is loaded. */
	find(seq: number): ChatMessage | undefined {
		const index = this.#indexOf(seq);
		return index === -1 ? undefined : this.messages[index];
	}

	/**
	 * Fills in the last-seen time of every offline member, which the welcome leaves out (it carries
	 * those online and the most recently seen). Presence frames keep them current after that.
	 */
	requestLastSeen(): void {
		this.#wantsLastSeen = true;
		if (!this.#askedLastSeen) this.#askedLastSeen = this.#frame({ type: 'presence' });
	}

	/** Who (other than me) has read up to `seq`. */
	seenBy(seq: number): string[] {
		return this.readers.filter((r) => (r.readSeq ?? 0) >= seq).map((r) => r.userId);
	}

	// ---- history ----

	async loadOlder(): Promise<void> {
		if (this.loadingOlder || !this.hasOlder) return;
		const first = this.messages[0]?.seq;
		if (first === undefined) return;
		this.loadingOlder = true;
		try {
			const page = await this.#fetchPage(`before=${first}`);
			if (!page) return;
			const older = page.messages.filter((m) => m.seq < first).map((m) => this.#withLater(m));
			this.messages = [...older, ...this.messages];
			this.hasOlder = page.hasMore;
		} finally {
			this.loadingOlder = false;
		}
	}

	async loadNewer(): Promise<void> {
		if (this.loadingNewer || !this.hasNewer) return;
		this.loadingNewer = true;
		try {
			const page = await this.#fetchPage(`after=${this.#lastSeq}`);
			if (!page) return;
			this.#appendPage(page.messages);
			if (!page.hasMore) this.#goLive();
		} finally {
			this.loadingNewer = false;
		}
	}

	/**
	 * Makes sure `seq` is in the timeline, loading the history around it if needed. False when it
	 * could not be: the room has no such message, or the history could not be read (offline).
	 */
	async jumpTo(seq: number): Promise<boolean> {
		if (this.#indexOf(seq) !== -1) return true;
		const window = await fetchHistory(
			`/api/rooms/${this.#roomId}/messages?around=${seq}`,
			HistoryWindow
		);
		if (!window) return false;
		this.#replaceWindow(window);
		return this.#indexOf(seq) !== -1;
	}

	async jumpToLatest(): Promise<void> {
		const page = await this.#fetchPage('');
		if (!page) return;
		this.#replaceWindow({ messages: page.messages, hasOlder: page.hasMore, hasNewer: false });
	}

	// ---- the socket ----

	#onOpen(): void {
		this.#askedLastSeen = false;
		this.notice = null;
		this.#frame({
			type: 'hello',
			lastSeq: this.#lastSeq,
			lastRev: this.#lastRev,
			away: this.#away
		});
		clearTimeout(this.#retryTimer);
		this.#sendWindow.reset();
		this.#pump();
		if (this.readSeq > this.#readSent) this.#sendRead();
	}

	/** The socket closed or was dropped: answers whether to reconnect. */
	#onClose(close: SocketClose): boolean {
		this.typing = [];
		if (close.code === CloseCode.SignedOut) {
			this.notice = 'You were signed out. Log in again to continue.';
			return false;
		}
		if (close.code === CloseCode.Removed || close.code === CloseCode.RoomGone) {
			this.notice = 'You no longer have access to this room.';
			return false;
		}
		if (close.code === CloseCode.TooManyConnections) {
			// Trying again would be turned away as well, and would cost the room a socket each time.
			this.notice = close.reason || TOO_MANY_CONNECTIONS;
			return false;
		}
		return true;
	}

	#frame(frame: ClientFrame): boolean {
		return this.#live.send(JSON.stringify(frame));
	}

	#command(frame: ClientFrame): string | null {
		return this.#frame(frame) ? null : 'You are offline; try again when connected.';
	}

	/** Transmits what the send window lets go now, in its order. */
	#pump(): void {
		// What `next` hands out counts as on the wire: take it only when the socket can carry it.
		if (!this.#outboxRestored || this.#live.state !== 'open') return;
		for (const entry of this.#sendWindow.next()) {
			this.#frame({
				type: 'send',
				clientId: entry.clientId,
				body: entry.body,
				replyTo: entry.replyTo
			});
		}
	}

	#sendRead(): void {
		if (this.readSeq <= this.#readSent) return;
		if (this.#frame({ type: 'read', seq: this.readSeq })) this.#readSent = this.readSeq;
	}

	#receive(data: string): void {
		const parsed = parseServerPayload(data);
		if (!parsed.ok) {
			console.warn('ignored a malformed frame from the room', parsed.error);
			return;
		}
		for (const frame of parsed.frame) this.#handle(frame);
	}

	#handle(frame: ServerFrame): void {
		switch (frame.type) {
			case 'welcome':
				return this.#onWelcome(frame);
			case 'message':
				this.#noteRev(frame.message.rev);
				this.typing = this.typing.filter((t) => t.userId !== frame.message.senderId);
				return this.#receiveLive([frame.message]);
			case 'update':
				this.#noteRev(frame.message.rev);
				return this.#applyUpdate(frame.message);
			case 'backlog':
				this.#receiveLive(frame.messages);
				for (const message of frame.updates ?? []) this.#applyUpdate(message);
				if (frame.more) void this.#pageForward();
				return;
			case 'ack':
				return this.#onAck(frame.clientId, frame.seq);
			case 'presence': {
				const next = { ...this.presence };
				for (const entry of frame.members) next[entry.userId] = entry;
				this.presence = next;
				return;
			}
			case 'members':
				return this.#onMembers(frame);
			case 'typing':
				this.typing = frame.users.filter((u) => u.userId !== this.#userId);
				return;
			case 'receipt': {
				const next = { ...this.receipts };
				for (const entry of frame.receipts) next[entry.userId] = entry;
				this.receipts = next;
				return;
			}
			case 'error':
				return this.#onError(frame);
		}
	}

	#onWelcome(frame: Extract<ServerFrame, { type: 'welcome' }>): void {
		this.#noteRev(frame.rev);
		this.roomLastSeq = Math.max(this.roomLastSeq, frame.lastSeq);
		this.readReceipts = frame.readReceipts;
		this.presence = Object.fromEntries(frame.presence.map((p) => [p.userId, p]));
		this.receipts = Object.fromEntries(frame.receipts.map((r) => [r.userId, r]));
		this.typing = frame.typing.filter((t) => t.userId !== this.#userId);
		if (frame.membersRev !== this.#membersRev) {
			this.memberChanges = {};
			this.#onMembersStale?.();
		}
		this.#membersRev = frame.membersRev;
		const ahead = frame.readSeq > this.readSeq;
		this.readSeq = Math.max(this.readSeq, frame.readSeq);
		// The page's read position may lag the room's by a flush; the room's is the truth.
		if (!this.#welcomed && ahead) this.refreshDivider(true);
		this.#welcomed = true;
		this.#readSent = Math.max(this.#readSent, frame.readSeq);
		if (this.#wantsLastSeen) this.requestLastSeen();
	}

	#onMembers(frame: Extract<ServerFrame, { type: 'members' }>): void {
		const changes = { ...this.memberChanges };
		for (const entry of frame.joined) changes[entry.userId] = entry;
		const gone = frame.left;
		if (gone.length > 0) {
			for (const userId of gone) changes[userId] = null;
			// Whoever left is no one's concern here any more: not online, not typing, not a reader.
			const without = <T>(record: Record<string, T>) =>
				Object.fromEntries(Object.entries(record).filter(([userId]) => !gone.includes(userId)));
			this.presence = without(this.presence);
			this.receipts = without(this.receipts);
			this.typing = this.typing.filter((t) => !gone.includes(t.userId));
		}
		this.memberChanges = changes;
		this.#membersRev = frame.rev;
	}

	#onAck(clientId: string, seq: number): void {
		// The room has it durably: the outbox may let go, whatever happens to this tab now.
		void this.#forgetEntry(clientId);
		if (this.#sendWindow.acked(clientId)) this.#pump();
		const message = this.pending.find((m) => m.clientId === clientId);
		if (!message) return;
		if (this.#indexOf(seq) !== -1) this.discard(clientId);
		else message.status = 'sent';
	}

	#onError(frame: Extract<ServerFrame, { type: 'error' }>): void {
		if (this.#sendAgainLater(frame)) return;
		const message = frame.clientId
			? this.pending.find((m) => m.clientId === frame.clientId && m.status === 'pending')
			: undefined;
		if (!message || frame.code === ErrorCode.RateLimited) {
			this.notice = frame.message;
			return;
		}
		// Refused for what it is: it waits for the person, and the messages after it go on.
		message.status = 'failed';
		message.error = frame.message;
		this.#save({ ...this.#entryOf(message), failed: frame.message });
		if (this.#sendWindow.remove(message.clientId)) this.#pump();
	}

	/**
	 * A refusal that is not the message's fault: it, and everything sent after it, goes again in
	 * order once the room allows. Answers whether the error was that.
	 */
	#sendAgainLater(frame: Extract<ServerFrame, { type: 'error' }>): boolean {
		// An internal error names no message, but may have been a send on the wire: sends are
		// idempotent, and a send left unanswered would hold up every message behind it.
		const transient =
			frame.code === ErrorCode.RateLimited ||
			(frame.code === ErrorCode.Internal && frame.clientId === undefined);
		if (!transient) return false;
		const wait = this.#sendWindow.refused(frame.clientId, frame.retryAfterMs, Date.now());
		if (wait === null) return false;
		clearTimeout(this.#retryTimer);
		this.#retryTimer = setTimeout(() => {
			this.#sendWindow.resume();
			this.#pump();
		}, wait);
		return true;
	}

	// ---- the timeline window ----

	#indexOf(seq: number): number {
		const first = this.messages[0]?.seq;
		if (first === undefined) return -1;
		const index = seq - first;
		return index >= 0 && index < this.messages.length ? index : -1;
	}

	/** New messages from the socket: appended when they continue the window, else set aside. */
	#receiveLive(incoming: ChatMessage[]): void {
		let appended: ChatMessage[] | null = null;
		for (const message of incoming) {
			this.roomLastSeq = Math.max(this.roomLastSeq, message.seq);
			const last = (appended ?? this.messages).at(-1)?.seq ?? 0;
			if (message.seq <= last) {
				this.#replaceIfNewer(message);
			} else if (this.hasNewer || message.seq !== last + 1) {
				this.#keepAside(this.#ahead, message);
			} else {
				appended ??= [...this.messages];
				appended.push(this.#withLater(message));
			}
		}
		if (appended) this.#setMessages(appended);
		this.#noteNewest(incoming);
		if (!this.hasNewer && this.#ahead.size > 0) {
			this.#drainAhead();
			if ([...this.#ahead.keys()].some((seq) => seq > this.#lastSeq + 1)) void this.#pageForward();
		}
	}

	#appendPage(page: ChatMessage[]): void {
		const last = this.#lastSeq;
		const newer = page.filter((m) => m.seq > last).map((m) => this.#withLater(m));
		if (newer.length > 0) this.#setMessages([...this.messages, ...newer]);
		this.#noteNewest(newer);
	}

	#noteNewest(messages: readonly ChatMessage[]): void {
		const newest = messages.reduce<ChatMessage | null>(
			(a, b) => (a === null || b.seq > a.seq ? b : a),
			null
		);
		if (!newest || newest.seq <= this.#newestSeq) return;
		this.#newestSeq = newest.seq;
		this.#tellNewest(newest);
	}

	#tellNewest(message: ChatMessage): void {
		this.#onNewest?.({
			seq: message.seq,
			at: message.createdAt,
			preview: plainPreview(message),
			senderName: message.senderName
		});
	}

	/** Joins the window to the live stream: what the socket set aside follows on. */
	#goLive(): void {
		this.hasNewer = false;
		this.#drainAhead();
	}

	#drainAhead(): void {
		const next = [...this.messages];
		for (const seq of [...this.#ahead.keys()].sort((a, b) => a - b)) {
			const last = next.at(-1)?.seq ?? 0;
			if (seq <= last) this.#ahead.delete(seq);
			else if (seq === last + 1) {
				next.push(this.#withLater(this.#ahead.get(seq)!));
				this.#ahead.delete(seq);
			} else break;
		}
		if (next.length !== this.messages.length) this.#setMessages(next);
	}

	/** More was missed than the socket sent, or a gap opened: fetch what is between over HTTP. */
	async #pageForward(): Promise<void> {
		if (this.#pagingForward) return;
		this.#pagingForward = true;
		try {
			for (let round = 0; round < 100; round++) {
				const page = await this.#fetchPage(`after=${this.#lastSeq}`);
				if (!page) return;
				this.#appendPage(page.messages);
				if (!page.hasMore || page.messages.length === 0) break;
			}
			this.#drainAhead();
		} finally {
			this.#pagingForward = false;
		}
	}

	#replaceWindow(window: HistoryWindow): void {
		this.messages = window.messages.map((m) => this.#withLater(m));
		this.hasOlder = window.hasOlder;
		this.hasNewer = window.hasNewer;
		if (!window.hasNewer) {
			this.#noteNewest(this.messages);
			this.#drainAhead();
		}
		this.#settlePending();
	}

	#applyUpdate(message: ChatMessage): void {
		const index = this.#indexOf(message.seq);
		if (index !== -1) return this.#replaceIfNewer(message);
		if (this.#ahead.has(message.seq)) this.#ahead.set(message.seq, message);
		else this.#keepAside(this.#laterUpdates, message);
	}

	#replaceIfNewer(message: ChatMessage): void {
		const index = this.#indexOf(message.seq);
		if (index === -1) return;
		const current = this.messages[index]!;
		// Pages read from D1 carry no revision; whatever came from the room is at least as new.
		if ((message.rev ?? -1) <= (current.rev ?? -1)) return;
		const next = [...this.messages];
		next[index] = message;
		this.messages = next;
		// The conversation list shows the newest message: an edit or deletion of it changes the row.
		if (message.seq === this.#newestSeq) this.#tellNewest(message);
	}

	/** A page's copy of a message, or a newer change to it that arrived before the page did. */
	#withLater(message: ChatMessage): ChatMessage {
		const later = this.#laterUpdates.get(message.seq);
		if (!later) return message;
		this.#laterUpdates.delete(message.seq);
		return (later.rev ?? -1) > (message.rev ?? -1) ? later : message;
	}

	#keepAside(store: Map<number, ChatMessage>, message: ChatMessage): void {
		store.set(message.seq, message);
		if (store.size > KEEP_OUTSIDE_WINDOW) store.delete(store.keys().next().value!);
	}

	#setMessages(next: ChatMessage[]): void {
		this.messages = next;
		this.#settlePending();
	}

	/** My messages that are now in the timeline are no longer pending. */
	#settlePending(): void {
		if (this.pending.length === 0) return;
		const mine = this.#ownClientIds();
		const settled = this.pending.filter((p) => mine.has(p.clientId));
		if (settled.length === 0) return;
		this.pending = this.pending.filter((p) => !mine.has(p.clientId));
		let freed = false;
		for (const p of settled) {
			void this.#forgetEntry(p.clientId);
			freed = this.#sendWindow.settled(p.clientId) || freed;
		}
		if (freed) this.#pump();
	}

	#ownClientIds(): ReadonlySet<string> {
		// A lookup table built and dropped here, never rendered.
		// eslint-disable-next-line svelte/prefer-svelte-reactivity
		return new Set(this.messages.filter((m) => m.senderId === this.#userId).map((m) => m.clientId));
	}

	#fetchPage(query: string): Promise<HistoryPage | null> {
		return fetchHistory(`/api/rooms/${this.#roomId}/messages?${query}`, HistoryPage);
	}

	#noteRev(rev: number | undefined): void {
		if (rev !== undefined && rev > this.#lastRev) this.#lastRev = rev;
	}

	// ---- the outbox ----

	#entryOf(message: PendingMessage): OutboxEntry {
		return {
			clientId: message.clientId,
			roomId: this.#roomId,
			userId: this.#userId,
			body: message.body,
			replyTo: message.replyTo?.seq,
			replyPreview: message.replyTo,
			createdAt: message.createdAt,
			failed: message.status === 'failed' ? message.error : undefined
		};
	}

	#save(entry: OutboxEntry): void {
		const saving = (this.#saving.get(entry.clientId) ?? Promise.resolve())
			.then(() => this.#outbox?.put(entry))
			.catch((err: unknown) => console.warn('outbox: could not save a message', err));
		this.#saving.set(entry.clientId, saving);
	}

	async #forgetEntry(clientId: string): Promise<void> {
		const saving = this.#saving.get(clientId);
		this.#saving.delete(clientId);
		await saving;
		await this.#outbox?.delete(clientId).catch(() => undefined);
	}

	/**
	 * Messages left unsent by an earlier visit (a reload, a crash, another tab) go out now, merged
	 * with what was written since by when each was written.
	 */
	async #restoreOutbox(): Promise<void> {
		try {
			const entries = (await this.#outbox?.list(this.#roomId, this.#userId)) ?? [];
			const inTimeline = this.#ownClientIds();
			for (const entry of entries) {
				if (this.pending.some((p) => p.clientId === entry.clientId)) continue;
				if (inTimeline.has(entry.clientId)) {
					void this.#outbox?.delete(entry.clientId);
					continue;
				}
				this.pending.push({
					clientId: entry.clientId,
					body: entry.body,
					replyTo: entry.replyPreview,
					createdAt: entry.createdAt,
					status: entry.failed ? 'failed' : 'pending',
					error: entry.failed
				});
				if (!entry.failed) this.#sendWindow.add(entry);
			}
			this.pending.sort((a, b) => a.createdAt - b.createdAt);
		} catch (err) {
			// Whatever the outbox holds waits for the next visit; this one's messages go now.
			console.warn('outbox: could not read unsent messages', err);
		} finally {
			this.#outboxRestored = true;
			this.#pump();
		}
	}

	// ---- presence: here or away ----

	/** Away: this tab is hidden, or nobody has touched it for a while. */
	#onActivity = (event: Event): void => {
		if (event.type !== 'visibilitychange') {
			const now = Date.now();
			// Pointer moves come by the hundred: re-arm the idle timer at most once a second.
			if (now - this.#lastActivityAt < 1000 && !this.#away) return;
			this.#lastActivityAt = now;
			this.#armIdleTimer();
		}
		this.#updateAway();
	};

	#armIdleTimer(): void {
		clearTimeout(this.#idleTimer);
		this.#idleTimer = setTimeout(() => this.#updateAway(), AWAY_AFTER_MS);
	}

	#updateAway(): void {
		const away =
			document.visibilityState === 'hidden' || Date.now() - this.#lastActivityAt >= AWAY_AFTER_MS;
		if (away === this.#away) return;
		this.#away = away;
		this.#frame({ type: 'activity', away });
	}
}

function previewOf(message: ChatMessage): ReplyPreview {
	return {
		seq: message.seq,
		senderName: message.senderName,
		snippet: message.body.slice(0, REPLY_SNIPPET_LENGTH),
		deleted: message.deletedAt !== undefined
	};
}

/** A fresh id for a message; `randomUUID` needs a secure context, which plain-HTTP hosts lack. */
function newClientId(): string {
	if (typeof crypto.randomUUID === 'function' && isSecureContext) return crypto.randomUUID();
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
