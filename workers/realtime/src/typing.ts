import { TYPING_TTL_MS, type TypingUser } from '../../../shared/protocol';

/**
 * Who is typing now. Ephemeral: in memory only. A `typing` frame from someone already typing only
 * extends their expiry, so keystrokes never cause broadcasts; only changes to the list do.
 */
export class TypingBook {
	#typing = new Map<string, { name: string; until: number }>();
	#changed = false;

	/** Returns whether the list changed. */
	touch(userId: string, name: string, now: number): boolean {
		const known = this.#typing.has(userId);
		this.#typing.set(userId, { name, until: now + TYPING_TTL_MS });
		if (!known) this.#changed = true;
		return !known;
	}

	/** Their message arrived or they left. Returns whether the list changed. */
	stop(userId: string): boolean {
		if (!this.#typing.delete(userId)) return false;
		this.#changed = true;
		return true;
	}

	expire(now: number): void {
		for (const [userId, entry] of this.#typing) {
			if (entry.until <= now) this.stop(userId);
		}
	}

	nextExpiry(): number | null {
		let next: number | null = null;
		for (const { until } of this.#typing.values()) if (next === null || until < next) next = until;
		return next;
	}

	list(): TypingUser[] {
		return [...this.#typing].map(([userId, { name }]) => ({ userId, name }));
	}

	/** The list if it changed since the last call. */
	takeChange(): TypingUser[] | null {
		if (!this.#changed) return null;
		this.#changed = false;
		return this.list();
	}
}
