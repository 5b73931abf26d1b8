/** The first reconnect is spread over this window, each later one over twice the previous. */
export const RECONNECT_FIRST_WINDOW_MS = 2000;
export const RECONNECT_MAX_WINDOW_MS = 30_000;

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first after a drop): "full jitter",
 * a uniformly random delay between zero and a window that doubles per attempt, up to a ceiling.
 *
 * When a deploy or a network blip drops a room's thousand clients at once, they all start
 * counting together. A 2 s first window spreads them to about one upgrade every 2 ms at the door
 * and the room, instead of a thousand in the first half-second; a client alone on a flaky network
 * waits 1 s on average, which a chat tolerates. Zero is allowed: some clients should come straight
 * back, so a short blip is barely visible.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
	const window = Math.min(RECONNECT_MAX_WINDOW_MS, RECONNECT_FIRST_WINDOW_MS * 2 ** attempt);
	return Math.floor(random() * window);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', stop);
			resolve();
		}, ms);
		const stop = () => {
			clearTimeout(timer);
			reject(signal!.reason);
		};
		signal?.addEventListener('abort', stop, { once: true });
	});
}
