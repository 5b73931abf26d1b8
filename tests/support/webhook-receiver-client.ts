// The tests' webhook receiver (webhook-receiver.ts) as seen from workerd, over HTTP.

/** An inbox: where a webhook is pointed (`url`, https as people give it) and its name here. */
export type WebhookInbox = { id: string; url: string };

/** The next `count` deliveries are answered with `status` (after `delayMs`, with `location`). */
export type WebhookAnswer = { status: number; count: number; delayMs?: number; location?: string };

/** One delivery as it arrived: header names in lower case, the body as sent. */
export type WebhookDelivery = {
	at: number;
	status: number;
	headers: Record<string, string>;
	body: string;
};

export class WebhookReceiverClient {
	readonly base: string;

	/** `port`: where the receiver listens on 127.0.0.1 (vitest provides `webhookReceiverPort`). */
	constructor(port: number) {
		this.base = `http://127.0.0.1:${port}`;
	}

	inbox(): Promise<WebhookInbox> {
		return this.#call<WebhookInbox>('POST', '/control/inboxes');
	}

	async answerNext(id: string, answer: WebhookAnswer): Promise<void> {
		await this.#call('POST', `/control/inboxes/${id}/answers`, answer);
	}

	/** Every delivery that reached the inbox, oldest first, whatever it was answered. */
	deliveries(id: string): Promise<WebhookDelivery[]> {
		return this.#call<WebhookDelivery[]>('GET', `/control/inboxes/${id}/deliveries`);
	}

	async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
		const response = await fetch(`${this.base}${path}`, {
			method,
			headers: body === undefined ? {} : { 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body)
		});
		if (!response.ok) throw new Error(`webhook receiver ${method} ${path}: ${response.status}`);
		return (await response.json()) as T;
	}
}
