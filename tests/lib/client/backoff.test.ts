import { describe, expect, it } from 'vitest';
import {
	RECONNECT_FIRST_WINDOW_MS,
	RECONNECT_MAX_WINDOW_MS,
	reconnectDelay
} from '$lib/client/backoff';

describe('reconnectDelay', () => {
	it('spreads a thousand clients dropped together over the whole first two seconds', () => {
		const delays = Array.from({ length: 1000 }, () => reconnectDelay(0));
		expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
		expect(Math.max(...delays)).toBeLessThan(RECONNECT_FIRST_WINDOW_MS);
		// Full jitter: no more than about a quarter come back in any half-second.
		const perHalfSecond = [0, 1, 2, 3].map(
			(q) => delays.filter((d) => d >= q * 500 && d < (q + 1) * 500).length
		);
		for (const count of perHalfSecond) expect(count).toBeLessThan(350);
	});

	it('doubles the window with each failed attempt, up to thirty seconds', () => {
		const top = () => 0.999_999;
		expect(reconnectDelay(0, top)).toBe(RECONNECT_FIRST_WINDOW_MS - 1);
		expect(reconnectDelay(1, top)).toBe(2 * RECONNECT_FIRST_WINDOW_MS - 1);
		expect(reconnectDelay(2, top)).toBe(4 * RECONNECT_FIRST_WINDOW_MS - 1);
		expect(reconnectDelay(20, top)).toBe(RECONNECT_MAX_WINDOW_MS - 1);
		expect(reconnectDelay(3, () => 0)).toBe(0);
	});
});
