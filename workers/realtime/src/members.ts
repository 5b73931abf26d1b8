import type { ReadPosition } from './flush';

export type Member = {
	userId: string;
	/** Lower-cased, for `@mentions`; empty until known. */
	username: string;
	name: string;
	shareReceipts: boolean;
	readSeq: number;
	readFlushed: number;
	deliveredSeq: number;
	lastSeenAt: number | null;
};

type MemberRow = {
	user_id: string;
	username: string;
	name: string;
	share_receipts: number;
	read_seq: number;
	read_flushed: number;
	delivered_seq: number;
	last_seen_at: number | null;
};

/**
 * Read positions gather this long in memory before one statement stores them all. A read is the
 * most frequent frame a room gets (every member looking sends one after each message): one write
 * each was hundreds of storage commits a second in a large room, and a write holds the room's
 * outgoing frames (the output gate) until it is durable. A read position is never acknowledged,
 * and the pending timer keeps the object awake until it is written, so only a crash in this window
 * loses one (the member's next read moves it again; D1 never moves back).
 */
export const READ_WRITE_DELAY_MS = 250;

/** How many of the members who left most recently the store keeps at hand (for the welcome). */
const RECENTLY_GONE = 100;

/**
 * The people the room knows: from their sockets and from the member directory in D1. Holds what
 * must outlive a socket (read and delivery positions, last seen) in the object's SQLite, with an
 * in-memory copy so lookups on the hot path never touch storage.
 */
export class MemberStore {
	#sql: SqlStorage;
	#members = new Map<string, Member>();
	#byUsername = new Map<string, string>();
	/** Ids, last seen first: kept in step with `markGone`, so nobody sorts all members per join. */
	#recentlyGone: string[];
	/** Members whose read position moved in memory and is not yet in storage. */
	#unwrittenReads = new Set<string>();
	#readTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(sql: SqlStorage) {
		this.#sql = sql;
		for (const row of sql.exec<MemberRow>('SELECT * FROM members')) this.#cache(fromRow(row));
		this.#recentlyGone = [...this.#members.values()]
			.filter((m) => m.lastSeenAt !== null)
			.sort((a, b) => (b.lastSeenAt ?? 0) - (a.lastSeenAt ?? 0))
			.slice(0, RECENTLY_GONE)
			.map((m) => m.userId);
	}

	get(userId: string): Member | undefined {
		return this.#members.get(userId);
	}

	all(): IterableIterator<Member> {
		return this.#members.values();
	}

	/**
	 * Up to a hundred members, most recently gone first. Any older last-seen time belongs to someone
	 * not listed; some listed may have come back since (the caller asks presence).
	 */
	*recentlyGone(): Generator<Member> {
		for (const id of this.#recentlyGone) {
			const member = this.#members.get(id);
			if (member) yield member;
		}
	}

	/**
	 * Records who a connecting user is; writes only when who they are changed. The time they came is
	 * kept in memory: while they are here they show as online, and leaving writes their last seen.
	 */
	identify(
		userId: string,
		who: { username: string; name: string; shareReceipts: boolean },
		now: number
	): Member {
		const known = this.#members.get(userId);
		const member: Member = known
			? { ...known, ...who, username: who.username || known.username, lastSeenAt: now }
			: {
					userId,
					...who,
					readSeq: 0,
					readFlushed: 0,
					deliveredSeq: 0,
					lastSeenAt: now
				};
		this.#cache(member);
		if (
			known &&
			known.username === member.username &&
			known.name === member.name &&
			known.shareReceipts === member.shareReceipts
		) {
			return member;
		}
		this.#sql.exec(
			`INSERT INTO members (user_id, username, name, share_receipts, last_seen_at)
			 VALUES (?, ?, ?, ?, ?)
			 ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, name = excluded.name,
			   share_receipts = excluded.share_receipts, last_seen_at = excluded.last_seen_at`,
			userId,
			member.username,
			member.name,
			member.shareReceipts ? 1 : 0,
			now
		);
		return member;
	}

	/** Adds or renames members found in D1's member list, keeping what the room knows of them. */
	learn(rows: { userId: string; username: string; name: string }[]): void {
		for (const row of rows) {
			const known = this.#members.get(row.userId);
			const username = row.username.toLowerCase();
			if (known && known.username === username && known.name === row.name) continue;
			this.#sql.exec(
				`INSERT INTO members (user_id, username, name) VALUES (?, ?, ?)
				 ON CONFLICT (user_id) DO UPDATE SET username = excluded.username, name = excluded.name`,
				row.userId,
				username,
				row.name
			);
			this.#cache(
				known
					? { ...known, username, name: row.name }
					: {
							userId: row.userId,
							username,
							name: row.name,
							shareReceipts: true,
							readSeq: 0,
							readFlushed: 0,
							deliveredSeq: 0,
							lastSeenAt: null
						}
			);
		}
	}

	/** The ids of the mentioned usernames that belong to members. */
	idsOf(usernames: string[]): { ids: string[]; unknown: number } {
		const ids: string[] = [];
		let unknown = 0;
		for (const name of usernames) {
			const id = this.#byUsername.get(name);
			if (id) ids.push(id);
			else unknown++;
		}
		return { ids, unknown };
	}

	/** Moves a read position forward (never back). Returns whether it moved. */
	markRead(userId: string, seq: number): boolean {
		const member = this.#members.get(userId);
		if (!member || seq <= member.readSeq) return false;
		member.readSeq = seq;
		this.#unwrittenReads.add(userId);
		this.#readTimer ??= setTimeout(() => this.writeReads(), READ_WRITE_DELAY_MS);
		return true;
	}

	/** Drops the read positions not yet stored: the room's storage is being deleted. */
	stop(): void {
		if (this.#readTimer !== undefined) clearTimeout(this.#readTimer);
		this.#readTimer = undefined;
		this.#unwrittenReads.clear();
	}

	/** Stores the read positions that moved since the last time, in one statement. */
	writeReads(): void {
		if (this.#readTimer !== undefined) clearTimeout(this.#readTimer);
		this.#readTimer = undefined;
		if (this.#unwrittenReads.size === 0) return;
		const moved: [string, number][] = [];
		for (const userId of this.#unwrittenReads) {
			const member = this.#members.get(userId);
			if (member) moved.push([userId, member.readSeq]);
		}
		this.#unwrittenReads.clear();
		this.#sql.exec(
			`UPDATE members SET read_seq = max(members.read_seq, f.seq)
			   FROM (SELECT value ->> '$[0]' AS user_id, value ->> '$[1]' AS seq FROM json_each(?)) AS f
			  WHERE members.user_id = f.user_id`,
			JSON.stringify(moved)
		);
	}

	/** Their last socket closed: everything so far reached them, and this is when we last saw them. */
	markGone(userId: string, deliveredSeq: number, now: number): void {
		const member = this.#members.get(userId);
		if (!member) return;
		member.deliveredSeq = Math.max(member.deliveredSeq, deliveredSeq);
		member.lastSeenAt = now;
		this.#recentlyGone = [userId, ...this.#recentlyGone.filter((id) => id !== userId)].slice(
			0,
			RECENTLY_GONE
		);
		this.#sql.exec(
			'UPDATE members SET delivered_seq = ?, last_seen_at = ? WHERE user_id = ?',
			member.deliveredSeq,
			now,
			userId
		);
	}

	/** No longer a member: not in the directory, the presence list or "seen by" any more. */
	forget(userId: string): void {
		const member = this.#members.get(userId);
		if (!member) return;
		this.#members.delete(userId);
		this.#recentlyGone = this.#recentlyGone.filter((id) => id !== userId);
		if (this.#byUsername.get(member.username) === userId) this.#byUsername.delete(member.username);
		this.#sql.exec('DELETE FROM members WHERE user_id = ?', userId);
	}

	unflushedReads(limit: number): ReadPosition[] {
		const reads: ReadPosition[] = [];
		for (const member of this.#members.values()) {
			if (member.readSeq > member.readFlushed) {
				reads.push({ userId: member.userId, readSeq: member.readSeq });
				if (reads.length >= limit) break;
			}
		}
		return reads;
	}

	/** Like the messages' flush marks: the whole batch in one statement. */
	markReadsFlushed(reads: ReadPosition[]): void {
		const moved: [string, number][] = [];
		for (const read of reads) {
			const member = this.#members.get(read.userId);
			if (!member || member.readFlushed >= read.readSeq) continue;
			member.readFlushed = read.readSeq;
			moved.push([read.userId, read.readSeq]);
		}
		if (moved.length === 0) return;
		this.#sql.exec(
			`UPDATE members SET read_flushed = f.seq
			   FROM (SELECT value ->> '$[0]' AS user_id, value ->> '$[1]' AS seq FROM json_each(?)) AS f
			  WHERE members.user_id = f.user_id AND members.read_flushed < f.seq`,
			JSON.stringify(moved)
		);
	}

	#cache(member: Member): void {
		const previous = this.#members.get(member.userId);
		if (previous?.username && this.#byUsername.get(previous.username) === member.userId) {
			this.#byUsername.delete(previous.username);
		}
		this.#members.set(member.userId, member);
		if (member.username) this.#byUsername.set(member.username, member.userId);
	}
}

function fromRow(row: MemberRow): Member {
	return {
		userId: row.user_id,
		username: row.username,
		name: row.name,
		shareReceipts: row.share_receipts === 1,
		readSeq: row.read_seq,
		readFlushed: row.read_flushed,
		deliveredSeq: row.delivered_seq,
		lastSeenAt: row.last_seen_at
	};
}
