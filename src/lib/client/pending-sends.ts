// My messages that the room has not taken into the timeline yet: what the person sees of them (the
// optimistic entries), the send window they go out through (`send-window.ts`), and what the
// outbox (`outbox.ts`) keeps of them. No socket, storage or timers here: the owner passes ports
// that transmit, save and forget, and runs the one timer a refusal for rate asks for.
//
// How each is settled: the room's ack frees its place in the window and the outbox, and the entry
// leaves the list once its seq is in the timeline (at the ack if the broadcast came first, or when
// the broadcast comes). A resend of a stored `clientId` is acked with the original seq, so going
// again never doubles a message.
//
// A message with files waits for them: it joins the send window once every file is stored (the
// owner uploads them, told through `upload`, and reports each with `fileStored`), so its `send`
// names their ids; messages written after it do not wait for its uploads. A file the server
// refuses (`fileFailed`) fails the message, which keeps its files for a retry. In an end-to-end
// encrypted room such a message is kept as written (`sealLater`) and encrypted (the `seal` port)
// only once its files are stored, since the encrypted message names them.

import {
	ErrorCode,
	replyPreviewOf,
	type ChatMessage,
	type ReplyPreview,
	type ServerFrame
} from '$shared/protocol';
import type { OutboxEntry, OutboxFile } from './outbox';
import type { UploadedFile } from './upload-meta';
import { SendWindow } from './send-window';

/** Refusals that hold a send (and those after it) for a while, to go again in order. */
const HOLDS: ReadonlySet<string> = new Set([
	ErrorCode.RateLimited,
	ErrorCode.SlowMode,
	ErrorCode.TimedOut
]);

/** One of my messages that is not in the timeline yet. */
export type PendingMessage = {
	clientId: string;
	body: string;
	replyTo?: ReplyPreview;
	createdAt: number;
	/** `pending`: waiting for the room (or the network); `sent`: acknowledged, on its way back. */
	status: 'pending' | 'sent' | 'failed';
	error?: string;
	/** Its files, in order; each has `uploaded` once the server stored it. */
	files?: readonly OutboxFile[];
	/** Whom an encrypted message mentions (its body is ciphertext). */
	mentions?: string[];
	/** Its body is the words, to be encrypted once its files are stored. */
	sealLater?: true;
};

export type PendingPorts = {
	/** Whether a frame sent now goes out: the socket is open. */
	canTransmit: () => boolean;
	/** Sends it on the socket. */
	transmit: (entry: OutboxEntry) => void;
	/** Keeps it in the outbox (the owner keeps the writes of one `clientId` in order). */
	save: (entry: OutboxEntry) => void;
	/** Lets it go from the outbox. */
	forget: (clientId: string) => void;
	/** Its files not yet stored (no `uploaded`) need uploading: start those not already going. */
	upload?: (entry: OutboxEntry) => void;
	/** The person discarded a message with these files: stop their uploads, abort what is left. */
	dropFiles?: (files: readonly OutboxFile[]) => void;
	/** Encrypts a `sealLater` message whose files are stored: the body and mentions to send. */
	seal?: (entry: OutboxEntry) => Promise<{ body: string; mentions: string[] }>;
	/** The list changed; it is a new array each time. */
	onChange?: (list: readonly PendingMessage[]) => void;
};

/** What the owner does about a refusal. */
export type Refusal = { retryIn: number } | { notice: string } | null;

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

export class PendingSends {
	#roomId: string;
	#userId: string;
	#ports: PendingPorts;
	#list: readonly PendingMessage[] = [];
	/** My pending messages that the room has not acknowledged, in the order they go out. */
	#window: SendWindow<OutboxEntry>;
	/**
	 * Nothing is transmitted before the outbox has been read: what an earlier visit left unsent
	 * was written first, and goes first.
	 */
	#restored = false;
	/** `sealLater` messages being encrypted now, so that each is encrypted once. */
	#sealing = new Set<string>();

	constructor(
		roomId: string,
		userId: string,
		ports: PendingPorts,
		window = new SendWindow<OutboxEntry>()
	) {
		this.#roomId = roomId;
		this.#userId = userId;
		this.#ports = ports;
		this.#window = window;
	}

	/** What the person sees, oldest first. */
	get list(): readonly PendingMessage[] {
		return this.#list;
	}

	/** A message the person wrote: shown at once, kept in the outbox, sent when it can be. */
	write(message: {
		clientId: string;
		body: string;
		replyTo?: ChatMessage;
		createdAt: number;
		files?: readonly OutboxFile[];
		mentions?: string[];
		sealLater?: true;
	}): void {
		const { clientId, body, replyTo, createdAt, mentions, sealLater } = message;
		const files = message.files?.length ? message.files : undefined;
		const pendingMessage: PendingMessage = {
			clientId,
			body,
			replyTo: replyTo && replyPreviewOf(replyTo),
			createdAt,
			status: 'pending',
			files,
			...(mentions ? { mentions } : {}),
			...(sealLater ? { sealLater } : {})
		};
		this.#set([...this.#list, pendingMessage]);
		const entry: OutboxEntry = {
			clientId,
			roomId: this.#roomId,
			userId: this.#userId,
			body,
			replyTo: replyTo?.seq,
			createdAt,
			files: files && [...files],
			...(mentions ? { mentions } : {}),
			...(sealLater ? { sealLater } : {})
		};
		this.#ports.save(entry);
		this.#enqueue(entry);
		this.#pump();
	}

	/** One of a message's files is stored: the message goes once all of them are. */
	fileStored(clientId: string, key: string, uploaded: UploadedFile): void {
		const message = this.#find(clientId);
		const file = message?.files?.find((f) => f.key === key);
		if (!message || !file || file.uploaded) return;
		const files = message.files!.map((f) => (f.key === key ? { ...f, uploaded } : f));
		const entry = this.#entryOf(this.#replace({ ...message, files }));
		this.#ports.save(entry);
		if (message.status === 'pending' && allStored(entry)) this.#ready(entry);
	}

	/** The server refused one of a message's files, or it could not be uploaded: it waits for the person. */
	fileFailed(clientId: string, key: string, error: string): void {
		const message = this.#find(clientId);
		const file = message?.files?.find((f) => f.key === key);
		if (!message || !file || file.uploaded || message.status !== 'pending') return;
		const failed = this.#replace({ ...message, status: 'failed', error: `${file.name}: ${error}` });
		this.#ports.save({ ...this.#entryOf(failed), failed: failed.error });
	}

	/** The person tries a refused message again. */
	retry(clientId: string): void {
		const message = this.#find(clientId);
		if (!message) return;
		const entry = this.#entryOf(this.#replace({ ...message, status: 'pending', error: undefined }));
		this.#ports.save(entry);
		this.#enqueue(entry);
		this.#pump();
	}

	discard(clientId: string): void {
		const files = this.#find(clientId)?.files;
		this.#set(this.#list.filter((m) => m.clientId !== clientId));
		if (this.#window.remove(clientId)) this.#pump();
		this.#ports.forget(clientId);
		if (files) this.#ports.dropFiles?.(files);
	}

	/**
	 * The room stored it (now, or before: a resend is acked with the original seq). `inTimeline`:
	 * the message at the acked seq is already in the timeline, so the entry goes; otherwise it
	 * shows `sent` until the broadcast brings it.
	 */
	acked(clientId: string, inTimeline: boolean): void {
		// The room has it durably: the outbox may let go, whatever happens to this tab now.
		this.#ports.forget(clientId);
		if (this.#window.acked(clientId)) this.#pump();
		const message = this.#find(clientId);
		if (!message) return;
		if (inTimeline) this.discard(clientId);
		else this.#replace({ ...message, status: 'sent' });
	}

	/**
	 * The room refused something. A refusal for rate (or an internal error, which may have been a
	 * send) pauses the window: everything from the refused message goes again, in order, after
	 * `retryIn` and `resume()`. A message refused for what it is waits for the person, and the rest
	 * go on. Anything else is a notice to show.
	 */
	refused(error: ErrorFrame, now: number): Refusal {
		// An internal error names no message, but may have been a send on the wire: sends are
		// idempotent, and a send left unanswered would hold up every message behind it.
		const transient =
			HOLDS.has(error.code) || (error.code === ErrorCode.Internal && error.clientId === undefined);
		if (transient) {
			const wait = this.#window.refused(error.clientId, error.retryAfterMs, now);
			if (wait !== null) return { retryIn: wait };
		}
		const message = error.clientId ? this.#find(error.clientId) : undefined;
		if (!message || message.status !== 'pending' || HOLDS.has(error.code)) {
			return { notice: error.message };
		}
		// The room would not take its files (an upload too old, say): a retry uploads them again.
		const files =
			error.code === ErrorCode.InvalidAttachment
				? message.files?.map((f) => ({ ...f, uploaded: undefined }))
				: message.files;
		const failed = this.#replace({ ...message, status: 'failed', error: error.message, files });
		this.#ports.save({ ...this.#entryOf(failed), failed: error.message });
		if (this.#window.remove(message.clientId)) this.#pump();
		return null;
	}

	/** The wait a refusal asked for is over: go on from the first unacknowledged message. */
	resume(): void {
		this.#window.resume();
		this.#pump();
	}

	/** A new socket is open: everything unacknowledged goes again, in order. */
	reconnected(): void {
		this.#window.reset();
		this.#pump();
	}

	/** Whatever of mine is in `messages` (the timeline) is no longer pending. */
	settle(messages: readonly ChatMessage[]): void {
		if (this.#list.length === 0) return;
		const mine = this.#ownClientIds(messages);
		const settled = this.#list.filter((p) => mine.has(p.clientId));
		if (settled.length === 0) return;
		this.#set(this.#list.filter((p) => !mine.has(p.clientId)));
		let freed = false;
		for (const p of settled) {
			this.#ports.forget(p.clientId);
			freed = this.#window.settled(p.clientId) || freed;
		}
		if (freed) this.#pump();
	}

	/**
	 * What an earlier visit left in the outbox (a reload, a crash, another tab), merged with what
	 * was written since by when each was written; what the timeline already has is let go. Sending
	 * starts now, also when the outbox could not be read (`entries` null).
	 */
	restore(entries: readonly OutboxEntry[] | null, messages: readonly ChatMessage[]): void {
		if (entries) this.#merge(entries, messages);
		this.#restored = true;
		this.#pump();
	}

	#merge(entries: readonly OutboxEntry[], messages: readonly ChatMessage[]): void {
		const inTimeline = this.#ownClientIds(messages);
		const list = [...this.#list];
		for (const entry of entries) {
			if (list.some((p) => p.clientId === entry.clientId)) continue;
			if (inTimeline.has(entry.clientId)) {
				this.#ports.forget(entry.clientId);
				continue;
			}
			list.push({
				clientId: entry.clientId,
				body: entry.body,
				replyTo: entry.replyPreview,
				createdAt: entry.createdAt,
				status: entry.failed ? 'failed' : 'pending',
				error: entry.failed,
				files: entry.files,
				...(entry.mentions ? { mentions: entry.mentions } : {}),
				...(entry.sealLater ? { sealLater: entry.sealLater } : {})
			});
			if (!entry.failed) this.#enqueue(entry);
		}
		this.#set(list.sort((a, b) => a.createdAt - b.createdAt));
	}

	/** A pending message goes to the send window, or first has its missing files uploaded. */
	#enqueue(entry: OutboxEntry): void {
		if (allStored(entry)) this.#ready(entry, false);
		else this.#ports.upload?.(entry);
	}

	/**
	 * Every file of the message is stored: it joins the send window, once encrypted if it waited
	 * for that. The encrypted body replaces the words in the list and the outbox before it goes.
	 */
	#ready(entry: OutboxEntry, pump = true): void {
		const seal = this.#ports.seal;
		if (!entry.sealLater || !seal) {
			this.#window.add(entry);
			if (pump) this.#pump();
			return;
		}
		if (this.#sealing.has(entry.clientId)) return;
		this.#sealing.add(entry.clientId);
		seal(entry)
			.then(
				({ body, mentions }) => {
					const message = this.#find(entry.clientId);
					if (!message || message.status !== 'pending') return;
					const sealed = { ...message, body, mentions, sealLater: undefined };
					const ready = this.#entryOf(this.#replace(sealed));
					this.#ports.save(ready);
					this.#window.add(ready);
					this.#pump();
				},
				(err: unknown) => {
					const message = this.#find(entry.clientId);
					if (!message) return;
					const error = err instanceof Error ? err.message : 'It could not be encrypted.';
					const failed = this.#replace({ ...message, status: 'failed', error });
					this.#ports.save({ ...this.#entryOf(failed), failed: error });
				}
			)
			.finally(() => this.#sealing.delete(entry.clientId));
	}

	/** Transmits what the send window lets go now, in its order. */
	#pump(): void {
		// What `next` hands out counts as on the wire: take it only when the socket can carry it.
		if (!this.#restored || !this.#ports.canTransmit()) return;
		for (const entry of this.#window.next()) this.#ports.transmit(entry);
	}

	#find(clientId: string): PendingMessage | undefined {
		return this.#list.find((m) => m.clientId === clientId);
	}

	#set(list: readonly PendingMessage[]): void {
		this.#list = list;
		this.#ports.onChange?.(list);
	}

	/** Puts `message` in the place of the entry with its `clientId`, and answers it. */
	#replace(message: PendingMessage): PendingMessage {
		this.#set(this.#list.map((m) => (m.clientId === message.clientId ? message : m)));
		return message;
	}

	#ownClientIds(messages: readonly ChatMessage[]): ReadonlySet<string> {
		return new Set(messages.filter((m) => m.senderId === this.#userId).map((m) => m.clientId));
	}

	#entryOf(message: PendingMessage): OutboxEntry {
		return {
			clientId: message.clientId,
			roomId: this.#roomId,
			userId: this.#userId,
			body: message.body,
			replyTo: message.replyTo?.seq,
			replyPreview: message.replyTo,
			createdAt: message.createdAt,
			failed: message.status === 'failed' ? message.error : undefined,
			files: message.files && [...message.files],
			...(message.mentions ? { mentions: message.mentions } : {}),
			...(message.sealLater ? { sealLater: message.sealLater } : {})
		};
	}
}

/** Whether every file of the message (if any) is stored. */
function allStored(entry: OutboxEntry): boolean {
	return entry.files?.every((f) => f.uploaded !== undefined) ?? true;
}
