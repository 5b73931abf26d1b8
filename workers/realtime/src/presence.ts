import type { PresenceState } from '../../../shared/protocol';

type Count = { sockets: number; away: number };

/**
 * Who is here, counted over all of a member's sockets (tabs, devices): online while any socket is
 * active, away while every one of them is hidden or idle, offline with none. Kept in memory and
 * rebuilt from the socket attachments when the object wakes; never written per change.
 */
export class PresenceBook {
	#counts = new Map<string, Count>();
	/** Members whose state may have changed since the last summary. */
	#changed = new Set<string>();

	state(userId: string): PresenceState {
		const count = this.#counts.get(userId);
		if (!count || count.sockets === 0) return 'offline';
		return count.away === count.sockets ? 'away' : 'online';
	}

	/** How many sockets the member holds here now: what the per-person cap counts. */
	sockets(userId: string): number {
		return this.#counts.get(userId)?.sockets ?? 0;
	}

	/** Members with at least one socket. */
	get connected(): number {
		return this.#counts.size;
	}

	/** The ids of members with at least one socket (online or away). */
	connectedIds(): IterableIterator<string> {
		return this.#counts.keys();
	}

	add(userId: string, away: boolean): void {
		const before = this.state(userId);
		const count = this.#counts.get(userId) ?? { sockets: 0, away: 0 };
		count.sockets++;
		if (away) count.away++;
		this.#counts.set(userId, count);
		this.#noteChange(userId, before);
	}

	remove(userId: string, away: boolean): void {
		const count = this.#counts.get(userId);
		if (!count) return;
		const before = this.state(userId);
		count.sockets--;
		if (away) count.away--;
		if (count.sockets <= 0) this.#counts.delete(userId);
		this.#noteChange(userId, before);
	}

	setAway(userId: string, wasAway: boolean, away: boolean): void {
		const count = this.#counts.get(userId);
		if (!count || wasAway === away) return;
		const before = this.state(userId);
		count.away += away ? 1 : -1;
		this.#noteChange(userId, before);
	}

	/** Marks a member for the next summary even if their state is unchanged (e.g. last seen). */
	touch(userId: string): void {
		this.#changed.add(userId);
	}

	get hasChanges(): boolean {
		return this.#changed.size > 0;
	}

	takeChanges(): string[] {
		const ids = [...this.#changed];
		this.#changed.clear();
		return ids;
	}

	#noteChange(userId: string, before: PresenceState): void {
		if (this.state(userId) !== before) this.#changed.add(userId);
	}
}
