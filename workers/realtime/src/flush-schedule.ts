/** How long new messages wait before the flush to D1, so that bursts go in one batch. */
export const FLUSH_DELAY_MS = 250;
/**
 * A room whose last flush copied messages less than this long ago waits until this long has
 * passed: a busy room then copies a second's messages in one flush instead of one flush each (each
 * is a D1 transaction and a write to the room's own storage, on the same thread as every delivery
 * when objects share a process), while a lone message still goes within FLUSH_DELAY_MS.
 */
export const FLUSH_GAP_MS = 1000;
/** Read positions are worth less urgency: they ride along with messages or go within seconds. */
export const READ_FLUSH_DELAY_MS = 2000;
/** Messages, and read positions, one flush copies at most. */
export const FLUSH_BATCH = 100;
export const FLUSH_RETRY_MAX_MS = 30_000;

/** Where the schedule lives: the object's one alarm. */
export type AlarmStorage = {
	getAlarm(): Promise<number | null>;
	setAlarm(at: number): Promise<void>;
};

/** Failed flushes in a row, kept in storage, so that a wake does not reset the backoff. */
export type FailureCount = { read(): number; write(count: number): void };

/**
 * When the room's alarm runs the flush to D1 (`flush.ts` does the copying). New messages wait a
 * little so that a burst goes in one batch, read positions wait longer, an earlier alarm is never
 * pushed back, and while D1 is failing the retry backs off exponentially and nothing pulls it
 * forward.
 */
export class FlushSchedule {
	#storage: AlarmStorage;
	#failures: FailureCount;
	/** When the next alarm fires, if one is set; `undefined` until read from storage. */
	#alarmAt: number | null | undefined;
	#backoffUntil = 0;
	/** When the last flush that copied messages went through (memory only: a wake forgets it). */
	#copiedAt = -Infinity;

	/** `alarmAt`: when the alarm is known to fire (null: none is set); read from storage if not. */
	constructor(storage: AlarmStorage, failures: FailureCount, alarmAt?: number | null) {
		this.#storage = storage;
		this.#failures = failures;
		this.#alarmAt = alarmAt;
	}

	/** New or changed messages: a flush within FLUSH_DELAY_MS, and FLUSH_GAP_MS after the last. */
	afterWrite(): Promise<void> {
		return this.schedule(Math.max(FLUSH_DELAY_MS, this.#copiedAt + FLUSH_GAP_MS - Date.now()));
	}

	/** A read position moved: a flush within READ_FLUSH_DELAY_MS, or sooner if one is due. */
	afterRead(): Promise<void> {
		return this.schedule(READ_FLUSH_DELAY_MS);
	}

	async schedule(delayMs: number): Promise<void> {
		if (this.#alarmAt === undefined) this.#alarmAt = await this.#storage.getAlarm();
		// While D1 is failing, new writes must not pull the retry forward and hammer it.
		const at = Math.max(Date.now() + delayMs, this.#backoffUntil);
		// Keep an earlier alarm: pushing it back on every message would starve the flush.
		if (this.#alarmAt !== null && this.#alarmAt <= at) return;
		this.#alarmAt = at;
		await this.#storage.setAlarm(at);
	}

	/** The alarm fired: none is set now. */
	fired(): void {
		this.#alarmAt = null;
	}

	/**
	 * The flush went through: the next failure starts the backoff afresh. `copied`: how many
	 * messages it took to D1 (read positions alone do not make the room busy).
	 */
	succeeded(copied = 0): void {
		if (copied > 0) this.#copiedAt = Date.now();
		this.#backoffUntil = 0;
		this.#failures.write(0);
	}

	/** The flush failed: the retry waits 1 s, doubling per failure in a row, up to the cap. */
	async failed(err: unknown): Promise<void> {
		const failures = this.#failures.read() + 1;
		this.#failures.write(failures);
		const delay = Math.min(FLUSH_RETRY_MAX_MS, 1000 * 2 ** Math.min(failures - 1, 5));
		console.warn(`flush to D1 failed (${failures} in a row), retrying in ${delay} ms`, err);
		// Replaces any earlier alarm a message set meanwhile: the retry waits, whatever arrives.
		this.#backoffUntil = Date.now() + delay;
		this.#alarmAt = this.#backoffUntil;
		await this.#storage.setAlarm(this.#backoffUntil);
	}
}
