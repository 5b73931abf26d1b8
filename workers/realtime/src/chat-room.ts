import { DurableObject } from 'cloudflare:workers';
import {
	CloseCode,
	ErrorCode,
	MAX_EMOJI_LENGTH,
	MAX_MENTIONS,
	MAX_REACTIONS_PER_MESSAGE,
	PING,
	PONG,
	SEND_RATE,
	checkAttachments,
	checkMessageBody,
	mentionedUsernames,
	parseClientFrame,
	type Attachment,
	type ChatMessage,
	type ClientFrame,
	type MemberEntry,
	type RoomChange,
	type RoomChangeResult,
	type SystemActor
} from '../../../shared/protocol';
import { backlogFrame } from './backlog';
import { loadMemberDirectory } from './directory';
import { Fanout, sendNow } from './fanout';
import { flushToD1 } from './flush';
import { FLUSH_BATCH, FlushSchedule } from './flush-schedule';
import { readIdentity, type MemberRole } from '../../../shared/identity';
import { MemberStore } from './members';
import { MessageStore, type MessageChange } from './message-store';
import { PresenceBook } from './presence';
import { TokenBucket } from './rate-limit';
import { RoomFiles, type FileStores } from './room-files';
import { migrateRoomStorage } from './room-storage';
import { SocketRegistry, closeQuietly, type Socket } from './socket-registry';
import { StateFrames } from './state-frames';
import { TypingBook } from './typing';
import { UnreadSignals } from './unread-signals';
import { RoomAudience, type Audience } from './room-audience';
import { sendToWebhooks, webhookEvents } from './room-webhooks';
import { inboxItems, tellInboxes } from './inbox-items';
import { readMeta, writeMeta } from './meta';
import { RoomModeration } from './room-moderation';
import { RoomRetention, siteMaxSeconds } from './retention';
import { RoomEncryption, type SealedUse } from './room-encryption';

export { RECEIPTS_LIVE_LIMIT, WELCOME_LAST_SEEN } from './state-frames';

/** The directory of usernames (for mentions) is refreshed from D1 at most this often. */
const DIRECTORY_TTL_MS = 60_000;

/**
 * What the room holds in memory, read from its storage. The constructor builds it, and `destroy`
 * builds it afresh: one place says what a room starts with.
 */
type Room = {
	roomId: string | null;
	/** When the directory was last read; kept in storage, so that waking up does not read it again. */
	directoryAt: number;
	messages: MessageStore;
	/** Files uploaded to the room: which a send may carry, which are to be deleted. */
	files: RoomFiles;
	/** Slow mode and time-outs. */
	moderation: RoomModeration;
	/** How long messages live here. */
	retention: RoomRetention;
	/** End-to-end encryption: the MLS group's epoch and the welcomes waiting for new devices. */
	encryption: RoomEncryption;
	members: MemberStore;
	presence: PresenceBook;
	typing: TypingBook;
	fanout: Fanout;
	sockets: SocketRegistry;
	/** Membership, presence, typing and receipts, coalesced; the welcome. */
	frames: StateFrames;
	/** When the alarm copies to D1. */
	flush: FlushSchedule;
	/** Who the room's news is for (members' levels, blocks), read from D1 now and then. */
	audience: RoomAudience;
	unread: UnreadSignals;
	/** Each user's budget for messages and changes, shared by all of their tabs. */
	sendRates: Map<string, TokenBucket>;
};

/** A deleted message: its place in the timeline stays; its words, reactions and files go. */
function tombstone(now: number, hadFiles = true): MessageChange {
	return {
		body: '',
		deletedAt: now,
		mentions: [],
		reactions: {},
		...(hadFiles ? { attachments: null } : {})
	};
}

/** Who changes the room: a socket's person, or someone the app authorized (the API). */
type RoomActor = { userId: string; name: string; role: MemberRole; bot?: boolean };

function actorOf(socket: Socket): RoomActor {
	return { userId: socket.userId, name: socket.userName, role: socket.role, bot: socket.bot };
}

function refusal(
	code: ErrorCode,
	message: string,
	retryAfterMs?: number
): Extract<RoomChangeResult, { ok: false }> {
	return retryAfterMs === undefined
		? { ok: false, code, message }
		: { ok: false, code, message, retryAfterMs };
}

/** A change done (or with nothing to do): the message as it now stands. */
function standing(message: ChatMessage): RoomChangeResult {
	return { ok: true, stored: message, duplicate: false };
}

const NO_SUCH_MESSAGE = refusal(ErrorCode.NotFound, 'No such message.');
const NOT_AN_EMOJI = refusal(ErrorCode.BadFrame, 'Reactions are a single emoji.');
const MENTIONS_ARE_FOUND = refusal(
	ErrorCode.BadFrame,
	'Mentions are found in the message here; send only the words.'
);
const REPLY_IS_SEALED = refusal(
	ErrorCode.Encryption,
	'In an encrypted conversation the message replied to is named inside the encrypted message.'
);
const TOO_MANY_MENTIONS = refusal(
	ErrorCode.BadFrame,
	`A message can mention at most ${MAX_MENTIONS} people.`
);

/** The members an encrypted message's sender says it mentions: each once, at most `MAX_MENTIONS`. */
function sealedMentions(ids: readonly string[] | undefined): string[] {
	return ids ? [...new Set(ids)].slice(0, MAX_MENTIONS) : [];
}

/** The frames a read-only socket may not send: everything that changes something. */
const CHANGES: ReadonlySet<ClientFrame['type']> = new Set([
	'send',
	'edit',
	'delete',
	'react',
	'read',
	'typing'
]);

/**
 * One chat room. It owns ordering: each message gets the next `seq`, is written to this object's
 * SQLite (the acknowledgement point), acknowledged, broadcast, and copied to D1 by the alarm.
 * Presence, typing and read receipts are coalesced into at most one frame per second.
 *
 * This class is the shell: the object's lifecycle, the RPC methods, and the frame handlers. The
 * parts it wires together are in `#room` (see `Room` and `#build`).
 *
 * Threat model: this object is reachable only through the app worker's binding, which has already
 * authenticated the user and checked membership in D1. It trusts the identity headers of the
 * upgrade request and nothing a client says about who it is.
 */
export class ChatRoom extends DurableObject<Env> {
	/** Where the flush writes: D1. A seam for tests, which put a failing database here. */
	database: D1Database;
	/** Where uploaded files' bytes are (the app's bucket), for deleting them. A seam for tests. */
	bucket: R2Bucket;

	#sql: SqlStorage;
	#room: Room;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.database = env.DB;
		this.bucket = env.FILES;
		this.#sql = ctx.storage.sql;
		this.#room = this.#build();
		this.#room.sockets.wake();
		this.#room.presence.takeChanges();
		// Heartbeats are answered by the runtime without waking a hibernated object.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
	}

	/**
	 * The room's parts, as its storage has them. `alarmAt` is when the alarm fires, if known (null:
	 * none is set); otherwise the flush schedule reads it when it first needs it.
	 */
	#build(alarmAt?: null): Room {
		const sql = this.#sql;
		migrateRoomStorage(sql);
		const messages = new MessageStore(sql);
		const members = new MemberStore(sql);
		const presence = new PresenceBook();
		const audience = new RoomAudience(this.env.DB);
		const typing = new TypingBook();
		const fanout = new Fanout();
		const sockets = new SocketRegistry(this.ctx, presence, fanout, (socket) => this.#left(socket));
		return {
			roomId: readMeta(sql, 'room_id'),
			directoryAt: Number(readMeta(sql, 'directory_at') ?? 0),
			messages,
			files: new RoomFiles(sql),
			moderation: new RoomModeration(sql),
			retention: new RoomRetention(sql, siteMaxSeconds(this.env.MAX_RETENTION_DAYS)),
			encryption: new RoomEncryption(sql),
			members,
			presence,
			typing,
			fanout,
			sockets,
			frames: new StateFrames({
				messages,
				members,
				presence,
				typing,
				fanout,
				readerShares: (ws) => sockets.readerShares(ws),
				membersRev: Number(readMeta(sql, 'members_rev') ?? 0),
				saveMembersRev: (rev) => writeMeta(sql, 'members_rev', String(rev))
			}),
			flush: new FlushSchedule(
				this.ctx.storage,
				{
					read: () => Number(readMeta(sql, 'flush_failures') ?? '0'),
					write: (count) => writeMeta(sql, 'flush_failures', String(count))
				},
				alarmAt
			),
			// Presence is counted in memory: asking the runtime for each member's sockets on every
			// message would cost O(members) runtime calls per message. A member whose every socket
			// here is away (a hidden tab, or idle) is not looking: their hub hears the room's news
			// as if they were not here, so the hidden tab can show a notification.
			audience,
			unread: new UnreadSignals(
				this.ctx,
				this.env,
				audience,
				(id) => presence.state(id) === 'online'
			),
			sendRates: new Map()
		};
	}

	async fetch(request: Request): Promise<Response> {
		const identity = readIdentity(request.headers);
		if (!identity) return new Response('Missing identity', { status: 400 });
		if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
			return new Response('Expected a WebSocket upgrade', { status: 426 });
		}
		this.#rememberRoomId(identity.roomId);
		if (identity.encrypted) this.#room.encryption.enable();

		const { 0: client, 1: server } = new WebSocketPair();
		const { messages, members, presence, sockets, frames, unread } = this.#room;
		if (sockets.accept(server, identity, messages)) {
			members.identify(
				identity.userId,
				{
					username: identity.username,
					name: identity.userName,
					shareReceipts: identity.readReceipts
				},
				Date.now()
			);
			if (presence.hasChanges) frames.schedule();
			this.#refreshDirectory();
			unread.onConnect(identity.userId);
		}
		return new Response(null, { status: 101, webSocket: client });
	}

	async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
		const socket = this.#room.sockets.get(ws);
		if (!socket) return;
		const wait = socket.frames.take();
		if (wait > 0) return this.#refuseFrame(ws, socket, raw, wait);
		const parsed = parseClientFrame(raw);
		if (!parsed.ok) return this.#error(ws, parsed.error.code, parsed.error.message);
		try {
			await this.#handle(ws, socket, parsed.frame);
		} catch (err) {
			// Never let one bad moment take the room down, and never send internals to a client.
			console.error('room frame failed', err);
			// A send is named, so that its client can mark that message failed and send the rest:
			// an unnamed error would leave it resending the same message behind all the others.
			const about = parsed.frame.type === 'send' ? { clientId: parsed.frame.clientId } : {};
			this.#error(ws, ErrorCode.Internal, 'Something went wrong; try again.', about);
		}
	}

	async webSocketClose(ws: WebSocket, code: number): Promise<void> {
		this.#room.sockets.forget(ws);
		closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code);
	}

	async webSocketError(ws: WebSocket): Promise<void> {
		this.#room.sockets.forget(ws);
		closeQuietly(ws, 1011);
	}

	/** A socket is gone. If it was its user's last, they are offline: all so far reached them. */
	#left(socket: Socket): void {
		const { presence, members, messages, typing, frames } = this.#room;
		if (presence.state(socket.userId) === 'offline') {
			members.markGone(socket.userId, messages.lastSeq, Date.now());
			presence.touch(socket.userId);
			frames.noteReceipt(socket.userId);
			typing.stop(socket.userId);
		}
		frames.schedule();
	}

	/**
	 * The alarm: expires what outlived the room's retention, then flushes (which carries those
	 * tombstones to D1 too), then sets itself for the next expiry.
	 */
	async alarm(): Promise<void> {
		const { flush, roomId } = this.#room;
		flush.fired();
		if (!roomId) return;
		this.#expire(Date.now());
		await this.#flush(roomId);
		await this.#scheduleExpiry();
	}

	/**
	 * The flush: copies new and changed messages and read positions to D1, oldest first; then
	 * deletes the files of deleted messages that are still marked (a background deletion failed,
	 * or never ran). Either failing backs off and retries on the same schedule.
	 */
	async #flush(roomId: string): Promise<void> {
		const { flush, messages, members, files, presence, audience } = this.#room;
		// What D1 is about to get, the room's own storage has first.
		members.writeReads();
		const rows = messages.toFlush(FLUSH_BATCH);
		const reads = members.unflushedReads(FLUSH_BATCH);
		const purging = files.hasPending();
		if (rows.length === 0 && reads.length === 0 && !purging) return;
		let unreadInboxes: string[];
		let heard: Audience | null = null;
		try {
			// Only a batch with a new message reads the audience (cached; D1 at most twice a minute).
			if (rows.some((row) => row.isNew)) heard = await audience.load(roomId);
			const inbox = heard
				? inboxItems(roomId, rows, heard, (id) => presence.state(id) === 'online')
				: [];
			unreadInboxes = await flushToD1(
				this.database,
				roomId,
				rows,
				reads,
				messages.rowAfterFlush(rows),
				inbox
			);
		} catch (err) {
			return flush.failed(err);
		}
		if (unreadInboxes.length > 0)
			this.ctx.waitUntil(tellInboxes(this.database, this.env.HUBS, unreadInboxes));
		if (heard && heard.webhooks.length > 0) {
			// After D1 has them: a bot told of a message can read it back through the API.
			const fresh = rows.flatMap((row) => (row.isNew ? (messages.get(row.seq) ?? []) : []));
			const byHook = webhookEvents(roomId, heard, fresh);
			if (byHook.size > 0) this.ctx.waitUntil(sendToWebhooks(this.env.WEBHOOKS, byHook));
		}
		messages.markFlushed(rows);
		members.markReadsFlushed(reads);
		if (purging) {
			try {
				await files.purge(this.#fileStores);
			} catch (err) {
				return flush.failed(err);
			}
		}
		flush.succeeded(rows.length);
		// A full batch leaves a backlog (a room catching up after D1 failed): it goes on at once.
		// What came in during this flush waits its turn, so a busy room batches (FLUSH_GAP_MS).
		if (rows.length === FLUSH_BATCH || reads.length === FLUSH_BATCH || files.hasPending()) {
			await flush.schedule(0);
		} else if (messages.hasUnflushed()) {
			await flush.afterWrite();
		} else if (members.unflushedReads(1).length > 0) {
			await flush.afterRead();
		}
	}

	/**
	 * Turns the messages past the room's retention into tombstones, as a deletion does (their
	 * files marked for the purge), and tells open sockets; a batch at a time.
	 */
	#expire(now: number): void {
		const { retention, messages, files } = this.#room;
		for (const seq of retention.due(now)) {
			const message = messages.get(seq);
			if (!message) continue;
			const hadFiles = message.attachments !== undefined;
			this.#changed(messages.update(seq, { ...tombstone(now, hadFiles), expired: true }));
			if (hadFiles) files.markForDeletion(seq);
		}
	}

	/**
	 * Sets the alarm for when the oldest live message expires, a little after so that one alarm
	 * takes the messages written close together (at most a minute late, and a hundredth of the
	 * retention: half a second for thirty-second disappearing messages).
	 */
	async #scheduleExpiry(): Promise<void> {
		const { retention, flush } = this.#room;
		const next = retention.nextAt();
		const seconds = retention.seconds;
		if (next === null || seconds === null) return;
		const slack = Math.min(60_000, seconds * 10);
		await flush.schedule(Math.max(0, next + slack - Date.now()));
	}

	/** The seams as they are now (tests replace them after the object is built). */
	#fileStores = (): FileStores => ({ db: this.database, bucket: this.bucket });

	// ---- RPC for the app worker ----

	/**
	 * Messages the room holds that D1 may not have yet (or has an older version of), in a seq range.
	 * History pages merge these over D1's rows, so reads stay correct while the flush lags.
	 */
	async unflushed(range: {
		before?: number;
		after?: number;
		limit: number;
	}): Promise<ChatMessage[]> {
		return this.#room.messages.unflushed(range);
	}

	/**
	 * The app stored a file for this room (its bytes in R2, its row in D1): from now on its
	 * uploader may attach it to one message. The room decides that from this record alone, so a
	 * send never waits for D1. If this fails, the app deletes the file again: a file the room does
	 * not know could never be attached.
	 */
	async fileUploaded(roomId: string, uploaderId: string, file: Attachment): Promise<void> {
		this.#rememberRoomId(roomId);
		this.#room.files.add(uploaderId, file, Date.now());
	}

	async lastSeq(): Promise<number> {
		return this.#room.messages.lastSeq;
	}

	/**
	 * The room's change counters. Read before a page of history, `rev` is the `lastRev` a client
	 * sends with its first hello: the room then replays exactly the changes made after that page was
	 * read. Read before the member list, `membersRev` tells the page whether its first welcome finds
	 * the membership changed since.
	 */
	async revisions(): Promise<{ rev: number; membersRev: number }> {
		return { rev: this.#room.messages.rev, membersRev: this.#room.frames.membersRev };
	}

	/**
	 * Records something that happened to the room ("Alice added Bob") in its timeline, ordered
	 * like any message, with the person who did it as its sender. `eventId` makes it idempotent, as
	 * `clientId` does for people.
	 */
	async postSystemMessage(
		roomId: string,
		eventId: string,
		body: string,
		actor: SystemActor
	): Promise<ChatMessage> {
		this.#rememberRoomId(roomId);
		const { messages, members, unread, fanout, frames, flush } = this.#room;
		const existing = messages.seqOf(actor.userId, eventId);
		if (existing !== null) return messages.get(existing)!;
		const message = messages.append(
			{ clientId: eventId, senderId: actor.userId, senderName: '', kind: 'system', body },
			Date.now()
		);
		// Their hubs are not told: the sender is nobody's news to themselves.
		unread.onMessage(roomId, message);
		if (!actor.left) {
			// Acting in a room is reading it, as writing is. Someone acting from a page may never have
			// opened the room: the room learns them first (from what the app knows of them).
			if (!members.get(actor.userId)) members.learn([actor]);
			if (members.markRead(actor.userId, message.seq)) frames.noteReceipt(actor.userId);
		}
		fanout.broadcast({ type: 'message', message });
		await flush.afterWrite();
		return message;
	}

	/**
	 * A change a person makes through the app (the API) rather than a socket: judged, ordered,
	 * stored, broadcast and flushed exactly as their socket's frame would be, against the same
	 * budget. The app has authorized them in D1 (`role` is their membership's). A `send`'s
	 * `clientId` makes it idempotent: a retried request answers the message stored the first time.
	 */
	async change(
		roomId: string,
		who: MemberEntry & { role: MemberRole },
		change: RoomChange
	): Promise<RoomChangeResult> {
		this.#rememberRoomId(roomId);
		const { members } = this.#room;
		// Someone acting only through the app may never have opened the room: it learns them first.
		if (!members.get(who.userId)) members.learn([who]);
		const actor: RoomActor = { userId: who.userId, name: who.name, role: who.role, bot: who.bot };
		switch (change.type) {
			case 'send':
				return this.#send(actor, change, null, () => {});
			case 'edit':
				return this.#edit(actor, change);
			case 'delete':
				return this.#delete(actor, change);
			case 'react':
				return this.#react(actor, change);
			case 'read':
				await this.#read(who.userId, change.seq);
				return { ok: true, stored: null, duplicate: false };
		}
	}

	/**
	 * The room was made end-to-end encrypted (D1 says so): from now on it takes only ciphertext of
	 * its MLS group. Idempotent; never undone.
	 */
	async enableEncryption(roomId: string): Promise<void> {
		this.#rememberRoomId(roomId);
		this.#room.encryption.enable();
	}

	/**
	 * An encrypted room's commit (docs/e2ee.md), which the app has authorized (a member who may
	 * write, adding devices of members only). Taken only from the epoch the group is in, so that
	 * when two devices commit at once exactly one wins and the other hears `stale_epoch`: it applies
	 * the winner's commit (in the timeline) and commits again. It takes the next `seq` like any
	 * message, and the group moves to the next epoch in the same step. `welcome` is kept for each
	 * device the commit adds (`welcomeFor`). `clientId` makes it idempotent.
	 */
	async commit(
		roomId: string,
		who: MemberEntry & { role: MemberRole },
		handshake: {
			clientId: string;
			epoch: number;
			commit: string;
			welcome?: string;
			adds?: string[];
		}
	): Promise<RoomChangeResult> {
		this.#rememberRoomId(roomId);
		const { messages, members, encryption, fanout, frames, unread, flush } = this.#room;
		const existing = messages.seqOf(who.userId, handshake.clientId);
		if (existing !== null) return { ok: true, stored: messages.get(existing), duplicate: true };
		const problem = encryption.commitProblem(roomId, handshake.commit, handshake.epoch);
		if (problem) return refusal(problem.code, problem.message);
		const tooFast = this.#takeChange(who.userId);
		if (tooFast) return tooFast;
		if (!members.get(who.userId)) members.learn([who]);
		const message = messages.append(
			{
				clientId: handshake.clientId,
				senderId: who.userId,
				senderName: who.name,
				kind: 'handshake',
				body: handshake.commit
			},
			Date.now()
		);
		// The same synchronous step as the append: the epoch and the welcomes commit with it.
		encryption.advance();
		if (handshake.welcome && handshake.adds?.length) {
			encryption.keepWelcome(handshake.adds, message.seq, handshake.welcome);
		}
		unread.onMessage(roomId, message);
		if (members.markRead(who.userId, message.seq)) frames.noteReceipt(who.userId);
		fanout.broadcast({ type: 'message', message });
		await flush.afterWrite();
		return { ok: true, stored: message, duplicate: false };
	}

	/**
	 * A member's devices changed (the app checked they may say so, and how often): the devices in
	 * the room bring the group in step now rather than at their next look.
	 */
	async devicesChanged(): Promise<void> {
		if (this.#room.encryption.on) this.#room.fanout.broadcast({ type: 'devices' });
	}

	/**
	 * The welcome that adds a device to this room's group, and its commit's seq (the device applies
	 * what comes after it), or null if none waits; and the group's epoch (0: nobody has made the
	 * group yet). The app has checked the device is the caller's.
	 */
	async welcomeFor(
		deviceId: string
	): Promise<{ welcome: { seq: number; welcome: string } | null; epoch: number }> {
		const { encryption } = this.#room;
		return { welcome: encryption.welcomeFor(deviceId), epoch: encryption.epoch };
	}

	/**
	 * Closes every socket of a user in this room at once: they left, were removed or banned. The app
	 * has already changed membership in D1, so a reconnect is refused at the door.
	 */
	async disconnectUser(userId: string): Promise<number> {
		const { sockets, members, typing, frames, unread } = this.#room;
		const closed = sockets.closeUser(userId, CloseCode.Removed, 'removed from the room');
		members.forget(userId);
		typing.stop(userId);
		frames.invalidate();
		unread.forget(userId);
		// Everyone's member list lets them go, connected or not.
		frames.noteMemberChange(userId, null);
		return closed;
	}

	/**
	 * The room's retention changed (null: keep messages). What is already past it expires at once;
	 * the app has checked who may and written it to D1.
	 */
	async setRetention(seconds: number | null): Promise<void> {
		this.#room.retention.set(seconds);
		await this.#room.flush.schedule(0);
	}

	/**
	 * The room's owner or an admin set slow mode, or timed a member out (or ended it); the app has
	 * checked they may and written it to D1. The room enforces it from the next send.
	 */
	async moderate(
		change: { slowModeSeconds: number } | { timeOut: { userId: string; until: number | null } }
	): Promise<void> {
		const { moderation } = this.#room;
		if ('slowModeSeconds' in change) moderation.setSlowMode(change.slowModeSeconds);
		else moderation.setTimeOut(change.timeOut.userId, change.timeOut.until);
	}

	/**
	 * Someone was made a member (D1 already says so). Those who come in by themselves show up in
	 * presence when they connect; this is for people added while they may be away (a bot never
	 * connects at all). Their username is learnt now, so that a mention of them resolves at once
	 * rather than after the next read of the member list.
	 */
	async memberAdded(member: MemberEntry): Promise<void> {
		const { members, frames } = this.#room;
		members.learn([member]);
		frames.noteMemberChange(member.userId, member);
	}

	/**
	 * Sessions were signed out (revoked, or signed out everywhere): their sockets close now. The
	 * people stay members; their other sessions keep their sockets. Answers how many it closed.
	 */
	async endSessions(sessionIds: string[]): Promise<number> {
		return this.#room.sockets.closeSessions(sessionIds, CloseCode.SignedOut, 'signed out');
	}

	/**
	 * A person's account was deleted (D1 already took their files out of the room, so nobody is
	 * served them): their files leave the room's messages too. Each message that carried one loses
	 * those entries (a new `rev`, an `update` to open sockets, rewritten in D1 by the flush); a
	 * message left with neither files nor words becomes a tombstone, as if deleted, since nothing
	 * of it remains to show and its sender can no longer edit it. The files are marked and deleted
	 * (objects, then rows) in the background, the alarm retrying as for a deleted message's, and
	 * the person's unattached uploads go with them. Only the uploader's files are dropped, whoever
	 * else's a message carries. Idempotent. Answers how many messages changed.
	 */
	async dropUploads(userId: string): Promise<number> {
		const { messages, files, flush } = this.#room;
		const carried = files.dropUploader(userId);
		let changed = 0;
		for (const [seq, ids] of carried) {
			const message = messages.get(seq);
			if (!message?.attachments || message.deletedAt !== undefined) continue;
			const kept = message.attachments.filter((file) => !ids.has(file.id));
			if (kept.length === message.attachments.length) continue;
			const empty = kept.length === 0 && message.body.trim() === '';
			this.#changed(
				messages.update(
					seq,
					empty ? tombstone(Date.now()) : { attachments: kept.length ? kept : null }
				)
			);
			changed++;
		}
		// Marked in the same step as the messages changed; the purge's failures are the alarm's.
		if (files.hasPending()) {
			this.ctx.waitUntil(
				files
					.purge(this.#fileStores)
					.catch((err: unknown) => console.warn('deleting files failed; the alarm retries', err))
			);
			await flush.afterWrite();
		}
		return changed;
	}

	/**
	 * The room was deleted in D1: closes every socket, and drops the object's storage and alarm.
	 * Messages not yet flushed could never land now (their room row is gone, so D1's foreign key
	 * refuses them), and an alarm left behind would retry that flush forever. The object starts
	 * afresh in memory too, as if it had never held the room. Answers how many sockets it closed.
	 *
	 * The room's files are not deleted here: D1's rows of them lost their room with it
	 * (`room_id` is null), and the cleanup job deletes every such file, these included.
	 */
	async destroy(): Promise<number> {
		const { sockets, frames, unread, members } = this.#room;
		const closed = sockets.closeAll(CloseCode.RoomGone, 'the room was deleted');
		frames.stop();
		members.stop();
		await this.ctx.storage.deleteAlarm();
		// Signals still waiting for their window would tell members of a room that is gone.
		unread.stop();
		await this.ctx.storage.deleteAll();
		this.#room = this.#build(null);
		return closed;
	}

	/**
	 * A member's notification level for the room changed in D1: the room's next news reads its
	 * audience again instead of waiting out its copy.
	 */
	async audienceChanged(): Promise<void> {
		this.#room.audience.forget();
	}

	/**
	 * A member's role or privacy setting changed in D1: applies it to their open sockets now rather
	 * than at their next connection.
	 */
	async updateMember(
		userId: string,
		change: { role?: MemberRole; readReceipts?: boolean }
	): Promise<void> {
		const { sockets, members, frames } = this.#room;
		sockets.update(userId, change);
		const member = members.get(userId);
		if (member && change.readReceipts !== undefined) {
			members.identify(
				userId,
				{ username: member.username, name: member.name, shareReceipts: change.readReceipts },
				member.lastSeenAt ?? Date.now()
			);
			frames.noteReceiptSharing(userId);
		}
	}

	// ---- frame handlers ----

	#handle(ws: WebSocket, socket: Socket, frame: ClientFrame): void | Promise<void> {
		if (socket.readOnly && CHANGES.has(frame.type)) {
			const about =
				frame.type === 'send'
					? { clientId: frame.clientId }
					: 'seq' in frame
						? { seq: frame.seq }
						: {};
			return this.#error(
				ws,
				ErrorCode.Forbidden,
				'This connection may only read: its token has the read scope.',
				about
			);
		}
		switch (frame.type) {
			case 'hello':
				return this.#onHello(ws, socket, frame);
			case 'send':
				return this.#onSend(ws, socket, frame);
			case 'edit':
				return this.#onEdit(ws, socket, frame);
			case 'delete':
				return this.#onDelete(ws, socket, frame);
			case 'react':
				return this.#onReact(ws, socket, frame);
			case 'typing':
				return this.#onTyping(socket);
			case 'read':
				return this.#onRead(socket, frame);
			case 'activity':
				return this.#setAway(ws, socket, frame.away);
			case 'presence':
				return this.#onPresenceRequest(ws, socket);
		}
	}

	#onHello(ws: WebSocket, socket: Socket, frame: Extract<ClientFrame, { type: 'hello' }>): void {
		// A backlog is the costliest answer the room gives: once per connection, or one socket
		// could ask for megabytes of it thirty times a second.
		if (socket.greeted) {
			return this.#error(
				ws,
				ErrorCode.DuplicateHello,
				'This connection has said hello already; reconnect to catch up again.'
			);
		}
		socket.greeted = true;
		if (frame.away !== undefined && frame.away !== socket.away) {
			this.#setAway(ws, socket, frame.away);
		} else {
			this.#room.sockets.save(ws, socket);
		}
		const backlog = backlogFrame(this.#room.messages, {
			lastSeq: frame.lastSeq,
			lastRev: frame.lastRev,
			fromSeq: socket.fromSeq,
			fromRev: socket.fromRev
		});
		sendNow(ws, `[${this.#room.frames.welcome(socket)},${backlog}]`);
	}

	async #onSend(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'send' }>
	): Promise<void> {
		const { clientId } = frame;
		const result = await this.#send(actorOf(socket), frame, socket, (seq) =>
			this.#room.fanout.send(ws, { type: 'ack', clientId, seq })
		);
		if (!result.ok) this.#refused(ws, result, { clientId });
	}

	async #onEdit(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'edit' }>
	): Promise<void> {
		const result = await this.#edit(actorOf(socket), frame);
		if (!result.ok) this.#refused(ws, result, { seq: frame.seq });
	}

	async #onDelete(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'delete' }>
	): Promise<void> {
		const result = await this.#delete(actorOf(socket), frame);
		if (!result.ok) this.#refused(ws, result, { seq: frame.seq });
	}

	async #onReact(
		ws: WebSocket,
		socket: Socket,
		frame: Extract<ClientFrame, { type: 'react' }>
	): Promise<void> {
		const result = await this.#react(actorOf(socket), frame);
		if (!result.ok) this.#refused(ws, result, { seq: frame.seq });
	}

	#onTyping(socket: Socket): void {
		if (this.#room.typing.touch(socket.userId, socket.userName, Date.now())) {
			this.#room.frames.schedule();
		}
	}

	async #onRead(socket: Socket, frame: Extract<ClientFrame, { type: 'read' }>): Promise<void> {
		await this.#read(socket.userId, frame.seq);
	}

	// ---- changes: one judgement for a socket's frames and the app's calls alike ----

	/**
	 * Stores a new message, or answers the one a resend of its `clientId` stored before (nobody sees
	 * it twice). `socket` is the socket it came through, if any: its held send keeps its order (see
	 * `Socket.held`). `ack` hears the seq before anyone hears the message.
	 */
	async #send(
		actor: RoomActor,
		frame: Omit<Extract<RoomChange, { type: 'send' }>, 'type'>,
		socket: Socket | null,
		ack: (seq: number) => void
	): Promise<RoomChangeResult> {
		const { messages, files, members, typing, fanout, frames, flush, unread, roomId, encryption } =
			this.#room;
		const { clientId, body } = frame;
		const release = () => {
			if (socket?.held === clientId) socket.held = null;
		};
		// Almost every message carries none: then nothing below reads or writes the files table.
		const fileIds = frame.attachments?.length ? frame.attachments : null;
		const invalid = encryption.on
			? this.#sealedSendProblem(frame)
			: (checkMessageBody(body, fileIds?.length) ??
				(fileIds && checkAttachments(fileIds)) ??
				(frame.mentions ? MENTIONS_ARE_FOUND : null));
		if (invalid) {
			release();
			return refusal(invalid.code, invalid.message);
		}

		const existing = messages.seqOf(actor.userId, clientId);
		if (existing !== null) {
			release();
			ack(existing);
			return { ok: true, stored: messages.get(existing), duplicate: true };
		}

		// An earlier send of this socket was refused for rate: nothing new overtakes it, even if a
		// token is there now. The client resends from that one, in order.
		if (socket && socket.held !== null && socket.held !== clientId) {
			return refusal(
				ErrorCode.RateLimited,
				'An earlier message is waiting to be sent again; this one follows it.',
				this.#heldWait(socket)
			);
		}
		const held = this.#moderationHold(actor.userId, actor.role);
		if (held) {
			if (socket) socket.held = clientId;
			return refusal(held.code, held.message, held.waitMs);
		}
		const tooFast = this.#takeChange(actor.userId);
		if (tooFast) {
			if (socket) socket.held = clientId;
			return tooFast;
		}
		if (socket) socket.held = null;
		let replyTo: ChatMessage | undefined;
		if (frame.replyTo !== undefined) {
			replyTo = messages.get(frame.replyTo) ?? undefined;
			if (!replyTo || replyTo.deletedAt !== undefined) {
				return refusal(ErrorCode.NotFound, 'The message replied to is gone.');
			}
		}
		let attachments: Attachment[] | undefined;
		if (fileIds) {
			attachments = files.claimable(actor.userId, fileIds) ?? undefined;
			if (!attachments) {
				return refusal(
					ErrorCode.InvalidAttachment,
					'A file can be attached only by the person who uploaded it to this room, to one message.'
				);
			}
		}
		const message = messages.append(
			{
				clientId,
				senderId: actor.userId,
				senderName: actor.name,
				kind: encryption.on ? 'sealed' : 'text',
				body,
				replyTo,
				mentions: encryption.on ? sealedMentions(frame.mentions) : this.#mentionsIn(body),
				attachments,
				bot: actor.bot
			},
			Date.now()
		);
		// The same synchronous step as the append (no await between): both writes commit together.
		if (fileIds) files.carry(fileIds, message.seq);
		if (roomId) {
			unread.onMessage(roomId, message, replyTo?.senderId ?? null);
		}
		// Writing in a room is reading it.
		if (members.markRead(actor.userId, message.seq)) frames.noteReceipt(actor.userId);
		// Everyone drops the typing indicator when the message arrives; the room's list follows.
		if (typing.stop(actor.userId)) frames.schedule();
		ack(message.seq);
		fanout.broadcast({ type: 'message', message });
		await flush.afterWrite();
		return { ok: true, stored: message, duplicate: false };
	}

	async #edit(
		actor: RoomActor,
		{ seq, body }: { seq: number; body: string }
	): Promise<RoomChangeResult> {
		const { messages, flush, encryption, roomId } = this.#room;
		const sealed = encryption.on;
		const invalid = sealed ? this.#sealedProblem(roomId, body, 'message') : checkMessageBody(body);
		// The body is judged before the message is read, as ever; only a blank one looks further,
		// since a message that carries files may lose its caption (one without may not be emptied).
		if (invalid && !(invalid.code === ErrorCode.EmptyMessage && this.#carriesFiles(seq))) {
			return refusal(invalid.code, invalid.message);
		}
		const message = this.#existing(seq);
		if (!message) return NO_SUCH_MESSAGE;
		if (message.senderId !== actor.userId || message.kind !== (sealed ? 'sealed' : 'text')) {
			return refusal(ErrorCode.Forbidden, 'You can only edit your own messages.');
		}
		const tooFast = this.#takeChange(actor.userId);
		if (tooFast) return tooFast;
		if (message.body === body) return standing(message);
		// An encrypted message keeps the mentions its sender's browser found when it was sent.
		const edited = messages.update(seq, {
			body,
			editedAt: Date.now(),
			...(sealed ? {} : { mentions: this.#mentionsIn(body) })
		});
		this.#changed(edited);
		await flush.afterWrite();
		return standing(edited ?? message);
	}

	async #delete(actor: RoomActor, { seq }: { seq: number }): Promise<RoomChangeResult> {
		const { messages, files, flush } = this.#room;
		const message = messages.get(seq);
		if (!message) return NO_SUCH_MESSAGE;
		// Deleting twice is not an error: a resent delete must not look like a failure.
		if (message.deletedAt !== undefined) return standing(message);
		const moderator = actor.role === 'owner' || actor.role === 'admin';
		const written = message.kind === 'text' || message.kind === 'sealed';
		if (!written || (message.senderId !== actor.userId && !moderator)) {
			return refusal(ErrorCode.Forbidden, 'You can only delete your own messages.');
		}
		const tooFast = this.#takeChange(actor.userId);
		if (tooFast) return tooFast;
		// A tombstone keeps the place in the timeline; the words and files are gone, also from D1.
		// Another's message removed by a moderator says so, and the flush audits it.
		const deleted = messages.update(seq, {
			...tombstone(Date.now(), message.attachments !== undefined),
			...(message.senderId !== actor.userId ? { deletedBy: actor.userId } : {})
		});
		this.#changed(deleted);
		// Marked in the same step as the tombstone, deleted in the background; the alarm the
		// tombstone's flush sets retries what is still marked.
		if (message.attachments && files.markForDeletion(seq)) {
			this.ctx.waitUntil(
				files
					.purge(this.#fileStores)
					.catch((err: unknown) => console.warn('deleting files failed; the alarm retries', err))
			);
		}
		await flush.afterWrite();
		return standing(deleted ?? message);
	}

	async #react(
		actor: RoomActor,
		{ seq, emoji, on }: { seq: number; emoji: string; on: boolean }
	): Promise<RoomChangeResult> {
		const { messages, flush, encryption, roomId } = this.#room;
		const invalid = encryption.on
			? this.#sealedProblem(roomId, emoji, 'reaction')
			: emoji.length > MAX_EMOJI_LENGTH
				? NOT_AN_EMOJI
				: null;
		if (invalid) return refusal(invalid.code, invalid.message);
		const message = this.#existing(seq);
		if (!message) return NO_SUCH_MESSAGE;
		const reactions = { ...message.reactions };
		const users = reactions[emoji] ?? [];
		if (users.includes(actor.userId) === on) return standing(message);
		if (on && !reactions[emoji] && Object.keys(reactions).length >= MAX_REACTIONS_PER_MESSAGE) {
			return refusal(
				ErrorCode.InvalidReaction,
				`A message can have at most ${MAX_REACTIONS_PER_MESSAGE} different reactions.`
			);
		}
		const tooFast = this.#takeChange(actor.userId);
		if (tooFast) return tooFast;
		const next = on ? [...users, actor.userId] : users.filter((id) => id !== actor.userId);
		if (next.length > 0) reactions[emoji] = next;
		else delete reactions[emoji];
		const changed = messages.update(seq, { reactions });
		this.#changed(changed);
		await flush.afterWrite();
		return standing(changed ?? message);
	}

	/** Moves a member's read position forward (never past the newest message). */
	async #read(userId: string, upTo: number): Promise<void> {
		const { messages, members, frames, flush } = this.#room;
		const seq = Math.min(upTo, messages.lastSeq);
		if (!members.markRead(userId, seq)) return;
		frames.noteReceipt(userId);
		await flush.afterRead();
	}

	/** Every offline member's last-seen time: what a member list shows beyond the welcome's. */
	#onPresenceRequest(ws: WebSocket, socket: Socket): void {
		// Up to a whole room's worth of entries: once per connection, or a loop could ask for it
		// thirty times a second.
		if (socket.toldLastSeen) {
			return this.#error(
				ws,
				ErrorCode.RateLimited,
				'Last-seen times come once per connection; presence frames keep them current.'
			);
		}
		socket.toldLastSeen = true;
		// Queued behind what this socket is owed already, so an older summary cannot overtake it.
		this.#room.fanout.sendSerialized(ws, this.#room.frames.lastSeen());
	}

	#setAway(ws: WebSocket, socket: Socket, away: boolean): void {
		const { sockets, presence, frames, unread } = this.#room;
		if (!sockets.setAway(ws, socket, away)) return;
		if (presence.hasChanges) frames.schedule();
		// Back and looking: up to date, so the next news after they look away is news again.
		if (!away && presence.state(socket.userId) === 'online') unread.onConnect(socket.userId);
	}

	// ---- helpers ----

	/**
	 * A frame over the socket's rate. A `send` is named in the answer, and held: the socket's
	 * later sends wait for it (see `Socket.held`). Only a send not stored yet is held, or a
	 * duplicate the client has seen acknowledged would hold the socket for good.
	 */
	#refuseFrame(ws: WebSocket, socket: Socket, raw: string | ArrayBuffer, wait: number): void {
		const parsed = parseClientFrame(raw);
		if (!parsed.ok || parsed.frame.type !== 'send') {
			return this.#error(ws, ErrorCode.RateLimited, 'Too many frames; slow down.', {
				retryAfterMs: wait
			});
		}
		const { clientId } = parsed.frame;
		if (socket.held === null && this.#room.messages.seqOf(socket.userId, clientId) === null) {
			socket.held = clientId;
		}
		this.#error(ws, ErrorCode.RateLimited, 'Too many frames; slow down.', {
			clientId,
			retryAfterMs: wait
		});
	}

	/** When the held send could pass both limits, if it came again: at least 1 ms. */
	#heldWait(socket: Socket): number {
		const sends = this.#room.sendRates.get(socket.userId)?.wait() ?? 0;
		const moderated = this.#moderationHold(socket.userId, socket.role)?.waitMs ?? 0;
		return Math.max(1, socket.frames.wait(), sends, moderated);
	}

	/**
	 * What is wrong with a `send` in an end-to-end encrypted room, or null: its body must be this
	 * group's ciphertext; a reply's quote is inside it (the room could only quote ciphertext); its
	 * files were encrypted before upload, and their names and keys are inside it too (docs/e2ee.md).
	 */
	#sealedSendProblem(frame: Omit<Extract<RoomChange, { type: 'send' }>, 'type'>) {
		if (frame.replyTo !== undefined) return REPLY_IS_SEALED;
		const files = frame.attachments?.length ? checkAttachments(frame.attachments) : null;
		if (files) return files;
		if ((frame.mentions?.length ?? 0) > MAX_MENTIONS) return TOO_MANY_MENTIONS;
		return this.#sealedProblem(this.#room.roomId, frame.body, 'message');
	}

	#sealedProblem(roomId: string | null, text: string, use: SealedUse) {
		// The room learns its id with its first socket or call, before any change can come.
		if (roomId === null) return refusal(ErrorCode.Internal, 'The room does not know itself yet.');
		return this.#room.encryption.sealedProblem(roomId, text, use);
	}

	/** Slow mode or a time-out holding this person's next message, if either does. */
	#moderationHold(userId: string, role: MemberRole) {
		const { moderation, messages } = this.#room;
		return moderation.hold(userId, role !== 'member', () => messages.lastSentAt(userId));
	}

	/** The message an edit or reaction is about: there, and not deleted. */
	#existing(seq: number): ChatMessage | null {
		const message = this.#room.messages.get(seq);
		return message && message.deletedAt === undefined ? message : null;
	}

	#carriesFiles(seq: number): boolean {
		return this.#room.messages.get(seq)?.attachments !== undefined;
	}

	#changed(message: ChatMessage | null): void {
		if (message) this.#room.fanout.broadcast({ type: 'update', message });
	}

	/**
	 * Takes one of the person's budget for messages and changes, shared by all of their tabs and
	 * the API: nothing when there was one, else the refusal saying how long to wait.
	 */
	#takeChange(userId: string): RoomChangeResult | null {
		let bucket = this.#room.sendRates.get(userId);
		if (!bucket) this.#room.sendRates.set(userId, (bucket = new TokenBucket(SEND_RATE)));
		const wait = bucket.take();
		if (wait === 0) return null;
		const seconds = Math.ceil(wait / 1000);
		return refusal(
			ErrorCode.RateLimited,
			`You are sending too fast. Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`,
			wait
		);
	}

	#mentionsIn(body: string): string[] {
		const names = mentionedUsernames(body);
		if (names.length === 0) return [];
		const { ids, unknown } = this.#room.members.idsOf(names);
		if (unknown > 0) this.#refreshDirectory();
		return ids;
	}

	#error(
		ws: WebSocket,
		code: string,
		message: string,
		extra: { clientId?: string; seq?: number; retryAfterMs?: number } = {}
	): void {
		this.#room.fanout.send(ws, { type: 'error', code, message, ...extra });
	}

	/** A change refused: the error its socket hears, naming the message it was about. */
	#refused(
		ws: WebSocket,
		result: Extract<RoomChangeResult, { ok: false }>,
		about: { clientId?: string; seq?: number }
	): void {
		const { code, message, retryAfterMs } = result;
		this.#error(ws, code, message, {
			...about,
			...(retryAfterMs !== undefined ? { retryAfterMs } : {})
		});
	}

	/** Learns members from D1 in the background, so mentions of people not yet here resolve. */
	#refreshDirectory(): void {
		const room = this.#room;
		const now = Date.now();
		if (!room.roomId || now - room.directoryAt < DIRECTORY_TTL_MS) return;
		// A quiet room sleeps between joins: without this, each join would read all its members.
		room.directoryAt = now;
		writeMeta(this.#sql, 'directory_at', String(now));
		this.ctx.waitUntil(
			loadMemberDirectory(this.database, room.roomId)
				.then((rows) => this.#room.members.learn(rows))
				.catch((err: unknown) => console.warn('member directory refresh failed', err))
		);
	}

	#rememberRoomId(roomId: string): void {
		const room = this.#room;
		if (room.roomId === roomId) return;
		if (room.roomId !== null) throw new Error('room object addressed with a different room id');
		room.roomId = roomId;
		writeMeta(this.#sql, 'room_id', roomId);
	}
}
