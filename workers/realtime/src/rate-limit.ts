/**
 * A token bucket: `burst` at once, then `perSecond` on average. In memory on purpose: it guards
 * the object against floods while it is awake, and an object only hibernates when nobody is busy.
 */
export class TokenBucket {
	#tokens: number;
	#at: number;
	readonly #burst: number;
	readonly #perSecond: number;

	constructor(rate: { burst: number; perSecond: number }, now = Date.now()) {
		this.#burst = rate.burst;
		this.#perSecond = rate.perSecond;
		this.#tokens = rate.burst;
		this.#at = now;
	}

	/** Takes a token: 0 when allowed, otherwise how many ms until one will be there. */
	take(now = Date.now()): number {
		const wait = this.wait(now);
		if (wait === 0) this.#tokens -= 1;
		return wait;
	}

	/** How many ms until a token will be there (0: there is one now), without taking it. */
	wait(now = Date.now()): number {
		this.#tokens = Math.min(
			this.#burst,
			this.#tokens + (Math.max(0, now - this.#at) / 1000) * this.#perSecond
		);
		this.#at = now;
		if (this.#tokens >= 1) return 0;
		return Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000);
	}
}
