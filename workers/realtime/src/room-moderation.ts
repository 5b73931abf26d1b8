// What the room's owner and admins set on who may send when: slow mode (each member one message
// per so many seconds) and time-outs (a member may not send until a time). The room enforces both
// in its send path, before the per-person rate, so a refused send is held like a rate-limited one
// and the sender's messages keep their order (the client resends from it when the wait is over).
// Owners and admins are never slowed or timed out. Kept in the object's own SQLite: the app
// writes the same settings to D1 for its pages, but the room is where sends are judged.
import { ErrorCode } from '../../../shared/protocol';
import { describeDuration, describeWait } from '../../../shared/durations';
import { readMeta, writeMeta } from './meta';

export type SendHold = {
	code: typeof ErrorCode.SlowMode | typeof ErrorCode.TimedOut;
	message: string;
	waitMs: number;
};

export class RoomModeration {
	#sql: SqlStorage;
	#slowModeSeconds: number;
	#timeouts = new Map<string, number>();

	constructor(sql: SqlStorage) {
		this.#sql = sql;
		this.#slowModeSeconds = Number(readMeta(sql, 'slow_mode_seconds') ?? 0);
		for (const row of sql.exec<{ user_id: string; until: number }>('SELECT * FROM timeouts')) {
			this.#timeouts.set(row.user_id, row.until);
		}
	}

	get slowModeSeconds(): number {
		return this.#slowModeSeconds;
	}

	setSlowMode(seconds: number): void {
		this.#slowModeSeconds = seconds;
		writeMeta(this.#sql, 'slow_mode_seconds', String(seconds));
	}

	/** Times the member out until `until` (ms); a time in the past, or null, ends it. */
	setTimeOut(userId: string, until: number | null, now = Date.now()): void {
		if (until === null || until <= now) {
			this.#timeouts.delete(userId);
			this.#sql.exec('DELETE FROM timeouts WHERE user_id = ?', userId);
			return;
		}
		this.#timeouts.set(userId, until);
		this.#sql.exec(
			'INSERT INTO timeouts (user_id, until) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET until = excluded.until',
			userId,
			until
		);
	}

	timedOutUntil(userId: string, now = Date.now()): number | null {
		const until = this.#timeouts.get(userId);
		return until !== undefined && until > now ? until : null;
	}

	/**
	 * Why `userId` may not send now, and for how long; null when they may. `lastSentAt` is when
	 * they last sent a message here (read only while slow mode is on).
	 */
	hold(
		userId: string,
		moderator: boolean,
		lastSentAt: () => number | null,
		now = Date.now()
	): SendHold | null {
		if (moderator) return null;
		const until = this.timedOutUntil(userId, now);
		if (until !== null) {
			const waitMs = until - now;
			return {
				code: ErrorCode.TimedOut,
				message: `An admin timed you out in this room: you can send again in ${describeWait(waitMs)}.`,
				waitMs
			};
		}
		if (this.#slowModeSeconds === 0) return null;
		const last = lastSentAt();
		const waitMs = last === null ? 0 : last + this.#slowModeSeconds * 1000 - now;
		if (waitMs <= 0) return null;
		return {
			code: ErrorCode.SlowMode,
			message: `Slow mode is on: one message every ${describeDuration(this.#slowModeSeconds * 1000)}. Sending again in ${describeWait(waitMs)}.`,
			waitMs
		};
	}
}
