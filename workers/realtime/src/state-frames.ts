import {
	ROOM_STATE_INTERVAL_MS,
	type MemberEntry,
	type PresenceEntry,
	type ReceiptEntry,
	type ServerFrame
} from '../../../shared/protocol';
import type { Fanout } from './fanout';
import type { Member, MemberStore } from './members';
import type { MessageStore } from './message-store';
import type { PresenceBook } from './presence';
import type { TypingBook } from './typing';

/** A first change waits this long for others, so that a burst of joins makes one summary. */
export const STATE_GATHER_MS = 50;
/**
 * Above this many members online, read positions are not broadcast: each change would go to every
 * socket (members x readers). Large rooms show presence but not "seen by".
 */
export const RECEIPTS_LIVE_LIMIT = 100;
/**
 * Offline members whose last-seen time the welcome carries, most recent first (a direct room's peer
 * among them). Others' come with a `presence` request: the welcome must not grow with the room.
 */
export const WELCOME_LAST_SEEN = 50;

/** What the state frames are made of: the room's books, read when a frame is due. */
export type StateSources = {
	messages: Pick<MessageStore, 'lastSeq' | 'rev'>;
	members: Pick<MemberStore, 'get' | 'all' | 'recentlyGone'>;
	presence: PresenceBook;
	typing: TypingBook;
	fanout: Fanout;
	/** Whether the reader on this socket shares read positions (and so sees others'). */
	readerShares: (ws: WebSocket) => boolean;
	/** The membership counter as stored, and where each new value is written. */
	membersRev: number;
	saveMembersRev: (rev: number) => void;
};

/**
 * Membership, presence, typing and receipts: at most one coalesced frame of each per room per
 * ROOM_STATE_INTERVAL_MS, whatever the number of changes. Also the frames built from the same
 * state for one socket (the welcome, the answer to a `presence` request), serialized once per state
 * frame and not once per join.
 */
export class StateFrames {
	#messages: StateSources['messages'];
	#members: StateSources['members'];
	#presence: PresenceBook;
	#typing: TypingBook;
	#fanout: Fanout;
	#readerShares: (ws: WebSocket) => boolean;
	#saveMembersRev: (rev: number) => void;
	/** Members whose read or delivery position moved since the last receipt frame. */
	#receiptChanges = new Set<string>();
	/** Who was added (their entry) or lost their place (null) since the last members frame. */
	#memberChanges = new Map<string, MemberEntry | null>();
	/**
	 * Counts membership changes, kept in storage: a tab whose welcome shows a number other than the
	 * one it last heard missed a `members` frame while away, and reloads its member list.
	 */
	#membersRev: number;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#due = 0;
	#lastSentAt = 0;
	/** The welcome's presence and receipts, serialized once per state frame, not once per join. */
	#snapshot: { presence: string; receipts: string; receiptsHidden: string } | null = null;
	/** The answer to a `presence` request, serialized once per state frame. */
	#lastSeen: string | null = null;

	constructor(sources: StateSources) {
		this.#messages = sources.messages;
		this.#members = sources.members;
		this.#presence = sources.presence;
		this.#typing = sources.typing;
		this.#fanout = sources.fanout;
		this.#readerShares = sources.readerShares;
		this.#membersRev = sources.membersRev;
		this.#saveMembersRev = sources.saveMembersRev;
	}

	get membersRev(): number {
		return this.#membersRev;
	}

	noteMemberChange(userId: string, entry: MemberEntry | null): void {
		this.#memberChanges.set(userId, entry);
		this.#membersRev++;
		this.#saveMembersRev(this.#membersRev);
		this.schedule();
	}

	noteReceipt(userId: string): void {
		this.#receiptChanges.add(userId);
		this.schedule();
	}

	/** A member started or stopped sharing read positions: the welcome's receipts change too. */
	noteReceiptSharing(userId: string): void {
		this.#snapshot = null;
		this.noteReceipt(userId);
	}

	/** Someone lost their place: the welcome and the last-seen answer must not name them. */
	invalidate(): void {
		this.#snapshot = null;
		this.#lastSeen = null;
	}

	/** Sends the pending frames no sooner than a gather and an interval after the last, or `at`. */
	schedule(at = 0): void {
		const now = Date.now();
		const due = Math.max(at, now + STATE_GATHER_MS, this.#lastSentAt + ROOM_STATE_INTERVAL_MS);
		if (this.#timer !== undefined) {
			if (this.#due <= due) return;
			clearTimeout(this.#timer);
		}
		this.#due = due;
		this.#timer = setTimeout(() => this.#send(), due - now);
	}

	/** Nothing more goes out (the room is gone). */
	stop(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#send(): void {
		this.#timer = undefined;
		const now = Date.now();
		this.#lastSentAt = now;
		this.#typing.expire(now);
		this.#snapshot = null;
		this.#lastSeen = null;

		if (this.#memberChanges.size > 0) {
			const changes = [...this.#memberChanges];
			this.#memberChanges.clear();
			this.#fanout.broadcast({
				type: 'members',
				joined: changes.flatMap(([, entry]) => (entry ? [entry] : [])),
				left: changes.flatMap(([userId, entry]) => (entry ? [] : [userId])),
				rev: this.#membersRev
			});
		}
		if (this.#presence.hasChanges) {
			const members = this.#presence
				.takeChanges()
				.map((id) => this.#members.get(id))
				.filter((m): m is Member => m !== undefined)
				.map((m) => this.#presenceOf(m));
			this.#fanout.broadcast({ type: 'presence', members });
		}
		const typing = this.#typing.takeChange();
		if (typing) this.#fanout.broadcast({ type: 'typing', users: typing });
		if (this.#receiptChanges.size > 0) {
			const changed = [...this.#receiptChanges]
				.map((id) => this.#members.get(id))
				.filter((m): m is Member => m !== undefined);
			this.#receiptChanges.clear();
			if (this.#presence.connected <= RECEIPTS_LIVE_LIMIT) {
				this.#fanout.broadcastEither(
					{ type: 'receipt', receipts: changed.map((m) => receiptOf(m, true)) },
					{ type: 'receipt', receipts: changed.map((m) => receiptOf(m, false)) },
					(ws) => (this.#readerShares(ws) ? 'a' : 'b')
				);
			}
		}
		const expiry = this.#typing.nextExpiry();
		if (expiry !== null) this.schedule(expiry);
	}

	#presenceOf(member: Member): PresenceEntry {
		const state = this.#presence.state(member.userId);
		return {
			userId: member.userId,
			name: member.name,
			username: member.username,
			state,
			lastSeenAt: state === 'offline' ? member.lastSeenAt : null
		};
	}

	/**
	 * The welcome frame, serialized, with the room's state as of now. Its presence costs what the
	 * members online cost, whatever the size of the room: offline is the default.
	 */
	welcome(reader: { userId: string; receipts: boolean }): string {
		if (!this.#snapshot) {
			const presence: PresenceEntry[] = [];
			for (const id of this.#presence.connectedIds()) {
				const member = this.#members.get(id);
				if (member) presence.push(this.#presenceOf(member));
			}
			let recent = 0;
			for (const member of this.#members.recentlyGone()) {
				if (recent >= WELCOME_LAST_SEEN) break;
				if (member.lastSeenAt === null || this.#presence.state(member.userId) !== 'offline') {
					continue;
				}
				presence.push(this.#presenceOf(member));
				recent++;
			}
			const positioned =
				this.#presence.connected <= RECEIPTS_LIVE_LIMIT ? welcomeReceipts(this.#members.all()) : [];
			this.#snapshot = {
				presence: JSON.stringify(presence),
				receipts: JSON.stringify(positioned.map((m) => receiptOf(m, true))),
				receiptsHidden: JSON.stringify(positioned.map((m) => receiptOf(m, false)))
			};
		}
		const head = JSON.stringify({
			type: 'welcome',
			userId: reader.userId,
			lastSeq: this.#messages.lastSeq,
			rev: this.#messages.rev,
			readSeq: this.#members.get(reader.userId)?.readSeq ?? 0,
			readReceipts: reader.receipts,
			membersRev: this.#membersRev,
			typing: this.#typing.list()
		});
		const receipts = reader.receipts ? this.#snapshot.receipts : this.#snapshot.receiptsHidden;
		return `${head.slice(0, -1)},"presence":${this.#snapshot.presence},"receipts":${receipts}}`;
	}

	/** Every offline member's last-seen time, as a serialized `presence` frame. */
	lastSeen(): string {
		if (this.#lastSeen === null) {
			const members: PresenceEntry[] = [];
			for (const member of this.#members.all()) {
				if (member.lastSeenAt === null) continue;
				if (this.#presence.state(member.userId) === 'offline') {
					members.push(this.#presenceOf(member));
				}
			}
			this.#lastSeen = JSON.stringify({ type: 'presence', members } satisfies ServerFrame);
		}
		return this.#lastSeen;
	}
}

/**
 * Whose read and delivery positions a welcome carries. Someone who never read nor received anything
 * has nothing to show. Beyond RECEIPTS_LIVE_LIMIT, the furthest readers and whoever received the
 * most: "seen by" on an older message may then name fewer than all who read it, the price of a
 * welcome that does not grow with the room (above that many online there is no "seen by" at all).
 */
function welcomeReceipts(members: Iterable<Member>): Member[] {
	const positioned = [...members].filter((m) => m.readSeq > 0 || m.deliveredSeq > 0);
	if (positioned.length <= RECEIPTS_LIVE_LIMIT) return positioned;
	const shown = (m: Member) => (m.shareReceipts ? m.readSeq : 0);
	const kept = positioned.sort((a, b) => shown(b) - shown(a)).slice(0, RECEIPTS_LIVE_LIMIT);
	const furthest = positioned.reduce((best, m) => (m.deliveredSeq > best.deliveredSeq ? m : best));
	if (!kept.includes(furthest)) kept.push(furthest);
	return kept;
}

/** A member's receipt as one reader sees it: no read position unless both share them. */
function receiptOf(member: Member, readerShares: boolean): ReceiptEntry {
	return {
		userId: member.userId,
		readSeq: readerShares && member.shareReceipts ? member.readSeq : null,
		deliveredSeq: member.deliveredSeq
	};
}
