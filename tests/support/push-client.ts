// The tests' push service (push-service.ts) as seen from where Node's modules are out of reach: a
// test in workerd drives it over HTTP with this client. Nothing here needs Node.

/** A device subscribed at the push service: what its browser's `PushSubscription.toJSON()` says. */
export type PushDevice = { id: string; endpoint: string; keys: { p256dh: string; auth: string } };

/** The next `count` messages to a device are answered with `status` (and `Retry-After`, seconds). */
export type PushFailure = { status: number; count: number; retryAfter?: number };

/** One message that reached a device's endpoint and decrypted: its plaintext and the answer given. */
export type PushRecord = { status: number; payload: string | null; at: number; ttl: number };

export class PushServiceClient {
	readonly base: string;

	/** `port`: where the service listens on 127.0.0.1 (vitest provides it as `pushServicePort`). */
	constructor(port: number) {
		this.base = `http://127.0.0.1:${port}`;
	}

	async subscribe(): Promise<PushDevice> {
		return this.#call<PushDevice>('POST', '/control/subscriptions');
	}

	async failNext(id: string, failure: PushFailure): Promise<void> {
		await this.#call('POST', `/control/subscriptions/${id}/failures`, failure);
	}

	async records(id: string): Promise<PushRecord[]> {
		return this.#call<PushRecord[]>('GET', `/control/subscriptions/${id}/records`);
	}

	/** The decrypted payloads the device accepted, oldest first. */
	async delivered(id: string): Promise<string[]> {
		return (await this.records(id)).flatMap((r) => (r.status === 201 ? [r.payload!] : []));
	}

	async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
		const response = await fetch(`${this.base}${path}`, {
			method,
			headers: body === undefined ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		if (!response.ok) throw new Error(`push service ${method} ${path}: ${response.status}`);
		return (await response.json()) as T;
	}
}
