import {
	CloseCode,
	ErrorCode,
	MAX_ATTACHMENTS,
	TYPING_INTERVAL_MS,
	checkMessageBody,
	parseServerPayload,
	type ChatMessage,
	type ClientFrame,
	type MemberEntry,
	type PresenceEntry,
	type ReceiptEntry,
	type ServerFrame,
	type TypingUser
} from '$shared/protocol';
import { AwayWatch } from './away-watch';
import { errorText } from './error-text';
import { FileUploads } from './file-uploads.svelte';
import { HistoryPage, HistoryWindow, fetchHistory } from './history';
import { clearLocalData } from './local-data';
import { LiveSocket, socketUrl, type LiveSocketState, type SocketClose } from './live-socket';
import type { Outbox, OutboxEntry, OutboxFile } from './outbox';
import { uploadMetaOf } from './upload-rules';
import { PendingSends, type PendingMessage } from './pending-sends';
import { RoomCache } from './room-cache';
import { TimelineWindow, type PageQuery } from './timeline-window';
import type { RoomLatest } from './user-hub.svelte';

export type ConnectionState = LiveSocketState;

/** Where one of my messages is: `sent` once the room has it durably, then delivered, then read. */
export type OwnStatus = 'sent' | 'delivered' | 'read';

export type { HistoryWindow } from './history';
export type { PendingMessage } from './pending-sends';
export type { OutboxFile } from './outbox';

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
	 * change that moves the row (the newest message still there edited or deleted), as the sidebar
	 * shows it: the room's own row follows what is said while it is open.
	 */
	onNewest?: (latest: RoomLatest) => void;
	/** Told each read position this tab sends the room: the sidebar remembers it across loads. */
	onRead?: (seq: number) => void;
	/**
	 * Membership changed while this tab was not connected (it missed a `members` frame): the member
	 * list it loaded is stale, and `memberChanges` starts afresh.
	 */
	onMembersStale?: () => void;
	/**
	 * An end-to-end encrypted room (docs/e2ee.md): what this tab sends is encrypted first, and the
	 * timeline is shown as this device reads it.
	 */
	crypto?: RoomCrypto;
};

/** What an end-to-end encrypted room adds to the connection (`EncryptedRoom`). */
export type RoomCrypto = {
	sealMessage(
		clientId: string,
		body: string,
		replyTo: number | undefined,
		/** Its files, stored: encrypted with their names and keys inside the message. */
		files?: readonly OutboxFile[]
	): Promise<{ body: string; mentions: string[] }>;
	sealEdit(seq: number, body: string): Promise<string>;
	/** The ciphertext to react with, or to take back; null: nothing of mine to take back. */
	sealReaction(message: ChatMessage, emoji: string, on: boolean): Promise<string | null>;
	/** The timeline changed: read what is new in it. */
	observe(messages: readonly ChatMessage[]): void;
	/** A message as this device reads it (reactive: it changes as messages are decrypted). */
	reveal(message: ChatMessage, find: (seq: number) => ChatMessage | undefined): ChatMessage;
	/** One of my unsent messages, as I wrote it. */
	ownText(clientId: string): string | null;
	/** A member's devices changed (the room's `devices` frame): bring the group in step. */
	devicesChanged(): void;
};

const READ_DEBOUNCE_MS = 300;
const OFFLINE = 'You are offline; try again when connected.';
const TOO_MANY_CONNECTIONS = 'Too many open connections to this room; close some tabs.';

/**
 * The browser's side of one room, as the page sees it: the glue between the socket
 * (`live-socket.ts`, which reconnects with jittered exponential backoff), the timeline window
 * (`timeline-window.ts`: what is loaded, and the catch-up from the last `seq` and `rev` it has
 * without a gap), my unsent messages (`pending-sends.ts`, through the send window and the IndexedDB
 * outbox) and Svelte's state, which it mirrors from them. It decides what each frame means, and
 * keeps presence, typing, receipts, read positions and whether this tab is away itself.
 */
export class RoomConnection {
	/** The timeline as the room sent it (an encrypted room's ciphertext as it is). */
	raw = $state.raw<readonly ChatMessage[]>([]);
	/** The timeline as the page shows it: in an encrypted room, as this device reads it. */
	messages = $derived.by(() => {
		const crypto = this.#crypto;
		if (!crypto) return this.raw;
		const find = (seq: number) => this.#timeline.find(seq);
		return this.raw.map((message) => crypto.reveal(message, find));
	});
	#pendingRaw = $state.raw<readonly PendingMessage[]>([]);
	/** My unsent messages; in an encrypted room, their words rather than their ciphertext. */
	pending = $derived.by(() => {
		const crypto = this.#crypto;
		if (!crypto) return this.#pendingRaw;
		return this.#pendingRaw.map((p) =>
			p.sealLater ? p : { ...p, body: crypto.ownText(p.clientId) ?? '🔒' }
		);
	});
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
	/** The uploads of this page: the composer's files and those of my unsent messages. */
	readonly uploads: FileUploads;

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
	#onRead: ((seq: number) => void) | undefined;
	#onMembersStale: (() => void) | undefined;
	#crypto: RoomCrypto | undefined;
	/** The room's count of membership changes as this tab last heard it. */
	#membersRev: number;
	#live: LiveSocket;
	#timeline: TimelineWindow;
	#pending: PendingSends;
	/** The room's newest messages kept in IndexedDB between visits. */
	#cache: RoomCache;
	/** Loaded with the page's first connect (IndexedDB and its checks stay out of the first load). */
	#outbox: Promise<Outbox | null> = Promise.resolve(null);
	/**
	 * Put-promises of outbox entries, so that a delete never races ahead of its put. Bookkeeping
	 * only, never rendered.
	 */
	// eslint-disable-next-line svelte/prefer-svelte-reactivity
	#saving = new Map<string, Promise<void>>();
	#welcomed = false;
	/** The one wait the room asked for after refusing sends over its rate limit. */
	#retryTimer: ReturnType<typeof setTimeout> | undefined;
	#readTimer: ReturnType<typeof setTimeout> | undefined;
	#readSent = 0;
	#typingSentAt = 0;
	/** Here or away, told to the room as it changes. */
	#away = new AwayWatch((away) => this.#frame({ type: 'activity', away }));
	/** Someone shows every member's last-seen time: ask on every connection (the room answers once). */
	#wantsLastSeen = false;
	/** Asked on the current socket; its answer follows its welcome, which replaces the presence. */
	#askedLastSeen = false;

	constructor(init: RoomConnectionInit) {
		this.#roomId = init.roomId;
		this.#userId = init.userId;
		this.#onNewest = init.onNewest;
		this.#onRead = init.onRead;
		this.#onMembersStale = init.onMembersStale;
		this.#crypto = init.crypto;
		this.#membersRev = init.membersRev;
		this.#cache = new RoomCache(init.roomId, init.userId);
		this.#live = new LiveSocket({
			url: () => socketUrl(`/ws/room/${this.#roomId}`),
			onState: (state) => (this.state = state),
			onOpen: () => this.#onOpen(),
			onMessage: (data) => this.#receive(data),
			onClose: (close) => this.#onClose(close)
		});
		const history = `/api/rooms/${this.#roomId}/messages`;
		this.#timeline = new TimelineWindow(
			init.history,
			init.rev,
			{
				page: (query) => fetchHistory(`${history}?${pageQuery(query)}`, HistoryPage),
				around: (seq) => fetchHistory(`${history}?around=${seq}`, HistoryWindow)
			},
			{
				onChange: (arrived) => this.#timelineChanged(arrived),
				onNewest: (message, shown) => this.#tellNewest(message, shown)
			}
		);
		this.uploads = new FileUploads(
			this.#roomId,
			{
				stored: (clientId, key, uploaded) => this.#pending.fileStored(clientId, key, uploaded),
				failed: (clientId, key, error) => this.#pending.fileFailed(clientId, key, error)
			},
			this.#crypto !== undefined
		);
		this.#pending = new PendingSends(this.#roomId, this.#userId, {
			canTransmit: () => this.#live.state === 'open',
			transmit: (entry) =>
				this.#frame({
					type: 'send',
					clientId: entry.clientId,
					body: entry.body,
					// Encrypted, the message replied to is named inside the ciphertext.
					replyTo: this.#crypto ? undefined : entry.replyTo,
					// `PendingSends` lets a message go only once every file is stored.
					attachments: entry.files?.map((f) => f.uploaded!.id),
					...(entry.mentions ? { mentions: entry.mentions } : {})
				}),
			save: (entry) => this.#save(entry),
			forget: (clientId) => void this.#forgetEntry(clientId),
			upload: (entry) => {
				for (const file of entry.files ?? []) {
					if (file.uploaded) continue;
					this.uploads.start(entry.clientId, file.key, file.blob, uploadMetaOf(file));
				}
			},
			dropFiles: (files) => {
				for (const file of files) this.uploads.cancel(file.key, file.blob.size);
			},
			seal: (entry) =>
				this.#crypto!.sealMessage(entry.clientId, entry.body, entry.replyTo, entry.files),
			onChange: (list) => (this.#pendingRaw = list)
		});
		this.#mirrorTimeline();
		this.readSeq = init.readSeq;
		this.#readSent = init.readSeq;
		this.refreshDivider();
	}

	get userId(): string {
		return this.#userId;
	}

	connect(): void {
		this.#away.start();
		window.addEventListener('pagehide', this.#onPageHide);
		this.#outbox = import('./outbox').then(
			(m) => new m.Outbox(this.#userId),
			(err: unknown) => {
				console.warn('outbox: could not load; unsent messages live as long as the tab', err);
				return null;
			}
		);
		this.#timeline.announceNewest();
		// What an earlier visit kept shows at once; `hello` resumes from it if it is newer.
		void this.#cache.open().then((kept) => kept && this.#timeline.restore(kept.messages, kept.rev));
		this.#live.start();
		void this.#restoreOutbox();
	}

	close(): void {
		this.#away.stop();
		window.removeEventListener('pagehide', this.#onPageHide);
		// What was read and still waits for the debounce goes now, while the socket is open.
		this.#sendRead();
		for (const timer of [this.#retryTimer, this.#readTimer]) clearTimeout(timer);
		this.#live.stop();
		this.uploads.stopAll();
		void this.#cache.flush();
	}

	// ---- what the person does ----

	/**
	 * Queues a message (in the outbox) and sends it when it can; with `files` (the composer's, whose
	 * uploads it started under `clientId`), once every file is stored. Returns an error for bad input.
	 */
	send(
		body: string,
		replyTo?: ChatMessage,
		attach?: { clientId: string; files: readonly OutboxFile[] }
	): string | null {
		const count = attach?.files.length ?? 0;
		const invalid = checkMessageBody(body, count);
		if (invalid) return invalid.message;
		if (count > MAX_ATTACHMENTS) return `A message can carry up to ${MAX_ATTACHMENTS} files.`;
		this.#typingSentAt = 0;
		// My message goes at the end: show the end.
		if (this.hasNewer) void this.jumpToLatest();
		if (this.#crypto && attach && count > 0) {
			// Encrypted once its files are stored: the encrypted message names them.
			const files = attach.files.map((file) => this.#withUpload(file));
			const { clientId } = attach;
			this.#pending.write({
				clientId,
				body,
				replyTo,
				createdAt: Date.now(),
				files,
				sealLater: true
			});
			return null;
		}
		if (this.#crypto) {
			const clientId = newClientId();
			// Encrypted in order (the group's one queue), so written to the outbox in order too.
			this.#crypto.sealMessage(clientId, body, replyTo?.seq).then(
				(sealed) =>
					this.#pending.write({
						clientId,
						body: sealed.body,
						createdAt: Date.now(),
						mentions: sealed.mentions
					}),
				(err: unknown) => this.#sealFailed(err)
			);
			return null;
		}
		// What is stored already goes with the message; the rest is reported as it lands.
		const files = attach?.files.map((file) => this.#withUpload(file));
		const clientId = attach?.clientId ?? newClientId();
		this.#pending.write({ clientId, body, replyTo, createdAt: Date.now(), files });
		return null;
	}

	/** A file of the message being sent, with what the server answered if it is stored already. */
	#withUpload(file: OutboxFile): OutboxFile {
		const state = this.uploads.stateOf(file.key);
		return state?.status === 'stored' ? { ...file, uploaded: state.uploaded } : file;
	}

	retry(clientId: string): void {
		this.#pending.retry(clientId);
	}

	discard(clientId: string): void {
		this.#pending.discard(clientId);
	}

	/** Changes one of my messages. Returns an error when it cannot be done now. */
	edit(seq: number, body: string): string | null {
		// A message that carries files may lose its caption.
		const files = this.messages.find((m) => m.seq === seq)?.attachments?.length ?? 0;
		const invalid = checkMessageBody(body, files);
		if (invalid) return invalid.message;
		if (this.#crypto) {
			if (this.#live.state !== 'open') return OFFLINE;
			this.#crypto.sealEdit(seq, body).then(
				(sealed) => this.#command({ type: 'edit', seq, body: sealed }),
				(err: unknown) => this.#sealFailed(err)
			);
			return null;
		}
		return this.#command({ type: 'edit', seq, body });
	}

	remove(seq: number): string | null {
		return this.#command({ type: 'delete', seq });
	}

	react(seq: number, emoji: string, on: boolean): string | null {
		// The reactions as the room keeps them: mine to take back is named by its ciphertext.
		const message = this.#crypto && this.#timeline.find(seq);
		if (this.#crypto && message) {
			if (this.#live.state !== 'open') return OFFLINE;
			this.#crypto.sealReaction(message, emoji, on).then(
				(sealed) => sealed && this.#command({ type: 'react', seq, emoji: sealed, on }),
				(err: unknown) => this.#sealFailed(err)
			);
			return null;
		}
		return this.#command({ type: 'react', seq, emoji, on });
	}

	#sealFailed(err: unknown): void {
		console.warn('could not encrypt', err);
		this.notice = err instanceof Error ? err.message : 'This could not be encrypted: try again.';
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
		const latest = Math.max(this.roomLastSeq, this.#timeline.lastSeq);
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
		// Reads the mirrored `messages` ($state), not only the window: a caller's `$derived` (a
		// reply's quote of its original) must follow the message when it is edited or deleted.
		if (this.messages.length === 0) return undefined;
		const message = this.#timeline.find(seq);
		return message && this.#crypto
			? this.#crypto.reveal(message, (s) => this.#timeline.find(s))
			: message;
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

	loadOlder(): Promise<void> {
		return this.#timeline.loadOlder();
	}

	loadNewer(): Promise<void> {
		return this.#timeline.loadNewer();
	}

	/** Whether the reader is at the newest messages: the timeline is kept bounded only then. */
	follow(following: boolean): void {
		this.#timeline.follow(following);
	}

	/**
	 * Makes sure `seq` is in the timeline, loading the history around it if needed. False when it
	 * could not be: the room has no such message, or the history could not be read (offline).
	 */
	jumpTo(seq: number): Promise<boolean> {
		return this.#timeline.jumpTo(seq);
	}

	jumpToLatest(): Promise<void> {
		return this.#timeline.jumpToLatest();
	}

	// ---- the socket ----

	#onOpen(): void {
		this.#askedLastSeen = false;
		this.notice = null;
		this.#frame({
			type: 'hello',
			lastSeq: this.#timeline.lastSeq,
			lastRev: this.#timeline.lastRev,
			away: this.#away.away
		});
		clearTimeout(this.#retryTimer);
		this.#pending.reconnected();
		if (this.readSeq > this.#readSent) this.#sendRead();
	}

	/** The socket closed or was dropped: answers whether to reconnect. */
	#onClose(close: SocketClose): boolean {
		this.typing = [];
		if (close.code === CloseCode.SignedOut) {
			this.notice = 'You were signed out. Log in again to continue.';
			void clearLocalData(this.#userId);
			return false;
		}
		if (close.code === CloseCode.Removed || close.code === CloseCode.RoomGone) {
			this.notice = 'You no longer have access to this room.';
			this.#cache.forget();
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
		return this.#frame(frame) ? null : OFFLINE;
	}

	#sendRead(): void {
		if (this.readSeq <= this.#readSent) return;
		if (!this.#frame({ type: 'read', seq: this.readSeq })) return;
		this.#readSent = this.readSeq;
		this.#onRead?.(this.readSeq);
	}

	/** The page is going away (a page loaded by its address, a reload): what was read goes first. */
	#onPageHide = (): void => {
		clearTimeout(this.#readTimer);
		this.#readTimer = undefined;
		this.#sendRead();
	};

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
				// Their message ends their typing; a line about something they did does not.
				if (frame.message.kind === 'text') {
					this.typing = this.typing.filter((t) => t.userId !== frame.message.senderId);
				}
				void this.#timeline.live(frame.message);
				return;
			case 'update':
				return this.#timeline.update(frame.message);
			case 'backlog':
				void this.#timeline.catchUp(frame);
				return;
			case 'ack':
				// The room has it durably (a resend is acked with the original seq).
				return this.#pending.acked(frame.clientId, this.#timeline.has(frame.seq));
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
			case 'devices':
				return this.#crypto?.devicesChanged();
			case 'error':
				return this.#onError(frame);
		}
	}

	#onWelcome(frame: Extract<ServerFrame, { type: 'welcome' }>): void {
		this.#timeline.welcome(frame.lastSeq, frame.rev);
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

	#onError(frame: Extract<ServerFrame, { type: 'error' }>): void {
		// The frame's message is written for API clients: people read the sentence for its code.
		const refusal = this.#pending.refused({ ...frame, message: errorText(frame) }, Date.now());
		if (refusal === null) return;
		if ('notice' in refusal) {
			this.notice = refusal.notice;
			return;
		}
		// Refused for rate: it, and everything sent after it, goes again in order once the room allows.
		// Slow mode and a time-out are the room's rules, not a hiccup: say why the message waits.
		if (frame.code === ErrorCode.SlowMode || frame.code === ErrorCode.TimedOut) {
			this.notice = errorText(frame);
		}
		clearTimeout(this.#retryTimer);
		this.#retryTimer = setTimeout(() => this.#pending.resume(), refusal.retryIn);
	}

	// ---- the timeline window ----

	#timelineChanged(arrived: boolean): void {
		this.#mirrorTimeline();
		this.#cache.changed(this.#timeline);
		// My messages that are now in the timeline are no longer pending.
		if (arrived) this.#pending.settle(this.#timeline.messages);
	}

	#mirrorTimeline(): void {
		const timeline = this.#timeline;
		this.raw = timeline.messages;
		this.#crypto?.observe(timeline.messages);
		this.hasOlder = timeline.hasOlder;
		this.hasNewer = timeline.hasNewer;
		this.loadingOlder = timeline.loadingOlder;
		this.loadingNewer = timeline.loadingNewer;
		this.roomLastSeq = timeline.roomLastSeq;
	}

	/**
	 * The row shows the newest message's seq and time (unread counts and order go by them) and the
	 * preview of the newest one still there, as the room's flush writes it to D1.
	 */
	#tellNewest(message: ChatMessage, shown: ChatMessage | null): void {
		// The preview is made by the Markdown renderer, which is not in the page's first load. Every
		// call waits on the same module, so they are told in the order they were made.
		void import('$shared/preview').then(({ plainPreview }) =>
			this.#onNewest?.({
				seq: message.seq,
				at: message.createdAt,
				preview: shown ? plainPreview(shown) : '',
				senderName: (shown ?? message).senderName
			})
		);
	}

	// ---- the outbox ----

	#save(entry: OutboxEntry): void {
		const saving = (this.#saving.get(entry.clientId) ?? Promise.resolve())
			.then(async () => (await this.#outbox)?.put(entry))
			.catch((err: unknown) => console.warn('outbox: could not save a message', err));
		this.#saving.set(entry.clientId, saving);
	}

	async #forgetEntry(clientId: string): Promise<void> {
		const saving = this.#saving.get(clientId);
		this.#saving.delete(clientId);
		await saving;
		await (await this.#outbox)?.delete(clientId).catch(() => undefined);
	}

	/**
	 * Messages left unsent by an earlier visit (a reload, a crash, another tab) go out now, merged
	 * with what was written since by when each was written.
	 */
	async #restoreOutbox(): Promise<void> {
		let entries: OutboxEntry[] | null = null;
		try {
			entries = (await (await this.#outbox)?.list(this.#roomId, this.#userId)) ?? [];
		} catch (err) {
			// Whatever the outbox holds waits for the next visit; this one's messages go now.
			console.warn('outbox: could not read unsent messages', err);
		}
		this.#pending.restore(entries, this.#timeline.messages);
	}
}

/** The history API's query for one page. */
function pageQuery(query: PageQuery): string {
	if ('before' in query) return `before=${query.before}`;
	if ('after' in query) return `after=${query.after}`;
	return '';
}

/** A fresh id for a message; `randomUUID` needs a secure context, which plain-HTTP hosts lack. */
export function newClientId(): string {
	if (typeof crypto.randomUUID === 'function' && globalThis.isSecureContext !== false) {
		return crypto.randomUUID();
	}
	const bytes = crypto.getRandomValues(new Uint8Array(16));
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
