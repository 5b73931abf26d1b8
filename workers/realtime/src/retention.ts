// How long the room's messages live: the room's own setting (a group's retention, a direct
// conversation's disappearing messages) capped by the site's maximum, if the deployment sets one
// (MAX_RETENTION_DAYS). An expired message becomes a content-free tombstone, as a deleted one
// does: its seq stays, so clients that catch up see no gap and keep their order, and its words,
// reactions and files go from here, from D1, from the search index and from R2 through the same
// flush and file purge a deletion uses. Only people's messages expire; the room's own lines
// ("Ana added Bob") stay.
import * as v from 'valibot';
import { readMeta, writeMeta } from './meta';

/** Messages one alarm expires at most; the next alarm goes on at once. */
export const EXPIRE_BATCH = 200;

const Days = v.pipe(v.string(), v.trim(), v.regex(/^\d{1,5}$/), v.transform(Number));

/** The site's maximum in seconds, from the deployment's MAX_RETENTION_DAYS (unset or "": none). */
export function siteMaxSeconds(value: unknown): number | null {
	if (value === undefined || value === '') return null;
	const parsed = v.safeParse(Days, typeof value === 'number' ? String(value) : value);
	if (!parsed.success || parsed.output === 0) {
		console.error('MAX_RETENTION_DAYS must be a whole number of days; it is ignored');
		return null;
	}
	return parsed.output * 86_400;
}

export class RoomRetention {
	#sql: SqlStorage;
	#seconds: number | null;
	#siteMax: number | null;

	constructor(sql: SqlStorage, siteMax: number | null) {
		this.#sql = sql;
		const stored = readMeta(sql, 'retention_seconds');
		this.#seconds = stored === null ? null : Number(stored);
		this.#siteMax = siteMax;
	}

	/** The room's own setting (null: keep). */
	get ownSeconds(): number | null {
		return this.#seconds;
	}

	/** How long messages live here, all told; null when they are kept. */
	get seconds(): number | null {
		if (this.#seconds === null) return this.#siteMax;
		return this.#siteMax === null ? this.#seconds : Math.min(this.#seconds, this.#siteMax);
	}

	set(seconds: number | null): void {
		this.#seconds = seconds;
		if (seconds === null) this.#sql.exec("DELETE FROM meta WHERE key = 'retention_seconds'");
		else writeMeta(this.#sql, 'retention_seconds', String(seconds));
	}

	/** The seqs of live messages written at or before `now` minus the retention, oldest first. */
	due(now: number, limit = EXPIRE_BATCH): number[] {
		const seconds = this.seconds;
		if (seconds === null) return [];
		return this.#sql
			.exec<{ seq: number }>(
				`SELECT seq FROM messages WHERE deleted_at IS NULL AND kind IN ('text', 'sealed') AND created_at <= ?
				  ORDER BY seq LIMIT ?`,
				now - seconds * 1000,
				limit
			)
			.toArray()
			.map((row) => row.seq);
	}

	/**
	 * When the oldest live message expires, or null if none will. Seq order is time order within a
	 * room (the room stamps each message as it numbers it), so the first live one is the oldest.
	 */
	nextAt(): number | null {
		const seconds = this.seconds;
		if (seconds === null) return null;
		const oldest = this.#sql
			.exec<{ created_at: number }>(
				"SELECT created_at FROM messages WHERE deleted_at IS NULL AND kind IN ('text', 'sealed') ORDER BY seq LIMIT 1"
			)
			.toArray()[0];
		return oldest ? oldest.created_at + seconds * 1000 : null;
	}
}
