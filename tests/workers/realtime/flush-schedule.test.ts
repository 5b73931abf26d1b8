// The flush schedule on its own, over a stand-in alarm and a fake clock: when the room's alarm is
// set for new messages, for read positions, and while D1 is failing.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
	FLUSH_DELAY_MS,
	FLUSH_GAP_MS,
	FLUSH_RETRY_MAX_MS,
	FlushSchedule,
	READ_FLUSH_DELAY_MS,
	type AlarmStorage,
	type FailureCount
} from '../../../workers/realtime/src/flush-schedule';

const T0 = 1_700_000_000_000;

/** The object's alarm: what was set, and how often storage was asked. */
class FakeAlarm implements AlarmStorage {
	at: number | null = null;
	sets: number[] = [];
	reads = 0;
	async getAlarm() {
		this.reads++;
		return this.at;
	}
	async setAlarm(at: number) {
		this.sets.push(at);
		this.at = at;
	}
}

class FakeFailures implements FailureCount {
	count = 0;
	read() {
		return this.count;
	}
	write(count: number) {
		this.count = count;
	}
}

function setup(alarmAt?: number | null) {
	const alarm = new FakeAlarm();
	const failures = new FakeFailures();
	return { alarm, failures, schedule: new FlushSchedule(alarm, failures, alarmAt) };
}

beforeEach(() => {
	vi.useFakeTimers();
	vi.setSystemTime(T0);
	vi.spyOn(console, 'warn').mockImplementation(() => {});
});

afterEach(() => {
	vi.useRealTimers();
	vi.restoreAllMocks();
});

describe('the flush schedule', () => {
	it('flushes new messages after a short delay, and a burst keeps the first alarm', async () => {
		const { alarm, schedule } = setup();
		await schedule.afterWrite();
		expect(alarm.sets).toEqual([T0 + FLUSH_DELAY_MS]);
		vi.setSystemTime(T0 + 100);
		await schedule.afterWrite();
		await schedule.afterWrite();
		// Pushing the alarm back on every message would starve the flush.
		expect(alarm.sets).toEqual([T0 + FLUSH_DELAY_MS]);
		// Storage is asked for the alarm once, not per message.
		expect(alarm.reads).toBe(1);
	});

	it('lets read positions wait longer than messages, and a message pulls them forward', async () => {
		const { alarm, schedule } = setup();
		await schedule.afterRead();
		expect(alarm.sets).toEqual([T0 + READ_FLUSH_DELAY_MS]);
		expect(READ_FLUSH_DELAY_MS).toBeGreaterThan(FLUSH_DELAY_MS);
		await schedule.afterWrite();
		expect(alarm.sets).toEqual([T0 + READ_FLUSH_DELAY_MS, T0 + FLUSH_DELAY_MS]);
		// A read after that rides along with the messages' flush.
		await schedule.afterRead();
		expect(alarm.sets).toHaveLength(2);
	});

	it('keeps an earlier alarm found in storage, and reads none when it knows there is none', async () => {
		const woken = setup();
		woken.alarm.at = T0 + 10;
		await woken.schedule.afterWrite();
		expect(woken.alarm.sets).toEqual([]);

		const fresh = setup(null);
		fresh.alarm.at = T0 + 10;
		await fresh.schedule.afterWrite();
		expect(fresh.alarm.reads).toBe(0);
		expect(fresh.alarm.sets).toEqual([T0 + FLUSH_DELAY_MS]);
	});

	it('sets the next alarm after the last one fired', async () => {
		const { alarm, schedule } = setup(null);
		await schedule.afterWrite();
		vi.setSystemTime(T0 + FLUSH_DELAY_MS);
		schedule.fired();
		await schedule.schedule(0);
		expect(alarm.sets).toEqual([T0 + FLUSH_DELAY_MS, T0 + FLUSH_DELAY_MS]);
	});

	it('backs off exponentially while D1 fails, capped, and nothing pulls the retry forward', async () => {
		const { alarm, failures, schedule } = setup(null);
		const delays: number[] = [];
		for (let i = 0; i < 8; i++) {
			schedule.fired();
			const before = alarm.sets.length;
			await schedule.failed(new Error('D1 is down'));
			expect(alarm.sets).toHaveLength(before + 1);
			delays.push(alarm.sets.at(-1)! - Date.now());
			// New messages meanwhile do not move the retry, earlier or later.
			await schedule.afterWrite();
			await schedule.afterRead();
			expect(alarm.sets).toHaveLength(before + 1);
		}
		expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
		expect(Math.max(...delays)).toBe(FLUSH_RETRY_MAX_MS);
		expect(failures.count).toBe(8);

		// The retry fired and failed again: a message then waits for the retry, not 250 ms.
		schedule.fired();
		await schedule.afterWrite();
		expect(alarm.sets.at(-1)).toBe(T0 + 30000);
	});

	it('starts afresh after a flush goes through', async () => {
		const { alarm, failures, schedule } = setup(null);
		await schedule.failed(new Error('D1 is down'));
		await schedule.failed(new Error('D1 is down'));
		vi.setSystemTime(T0 + 5000);
		schedule.fired();
		schedule.succeeded();
		expect(failures.count).toBe(0);
		await schedule.afterWrite();
		expect(alarm.sets.at(-1)).toBe(T0 + 5000 + FLUSH_DELAY_MS);
		await schedule.failed(new Error('D1 is down'));
		expect(alarm.sets.at(-1)).toBe(T0 + 5000 + 1000);
	});

	it('keeps counting failures across a wake: the stored count sets the next delay', async () => {
		const failures = new FakeFailures();
		failures.count = 3;
		const alarm = new FakeAlarm();
		await new FlushSchedule(alarm, failures).failed(new Error('D1 is down'));
		expect(failures.count).toBe(4);
		expect(alarm.sets).toEqual([T0 + 8000]);
	});

	it("batches a busy room's messages: the next flush waits for the gap after one that copied any", async () => {
		const { alarm, schedule } = setup(null);
		await schedule.afterWrite();
		vi.setSystemTime(T0 + FLUSH_DELAY_MS);
		schedule.fired();
		schedule.succeeded(1);
		// Alice's next message comes at once: it goes with whatever follows within the gap.
		vi.setSystemTime(T0 + FLUSH_DELAY_MS + 10);
		await schedule.afterWrite();
		expect(alarm.sets.at(-1)).toBe(T0 + FLUSH_DELAY_MS + FLUSH_GAP_MS);
		expect(FLUSH_GAP_MS).toBeGreaterThan(FLUSH_DELAY_MS);

		// Bob writes after a quiet spell: the usual short delay.
		vi.setSystemTime(T0 + FLUSH_DELAY_MS + FLUSH_GAP_MS);
		schedule.fired();
		schedule.succeeded(1);
		vi.setSystemTime(T0 + 10_000);
		await schedule.afterWrite();
		expect(alarm.sets.at(-1)).toBe(T0 + 10_000 + FLUSH_DELAY_MS);
	});

	it('does not slow down a backlog, nor count a flush of read positions alone as busy', async () => {
		const { alarm, schedule } = setup(null);
		schedule.fired();
		schedule.succeeded(100);
		await schedule.schedule(0);
		expect(alarm.sets).toEqual([T0]);

		const reads = setup(null);
		reads.schedule.fired();
		reads.schedule.succeeded(0);
		await reads.schedule.afterWrite();
		expect(reads.alarm.sets).toEqual([T0 + FLUSH_DELAY_MS]);
	});
});
