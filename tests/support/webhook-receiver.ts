// A webhook receiver on loopback for the tests: what a bot's service would run. Each inbox is a
// path the test made here; the receiver records every delivery (its headers and raw body) and
// answers 200, or, when told, a chosen status for the next few deliveries, or nothing for a
// while. It listens on plain http: the realtime worker reaches a loopback https URL over http in
// development (shared/outbound-url.ts).
//
// Node runs it (vitest's globalSetup); tests in workerd drive it through `WebhookReceiverClient`.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookAnswer, WebhookDelivery, WebhookInbox } from './webhook-receiver-client';

type Inbox = { deliveries: WebhookDelivery[]; answers: WebhookAnswer[] };

export class WebhookReceiver {
	readonly port: number;
	#server: Server;
	#inboxes = new Map<string, Inbox>();

	private constructor(server: Server) {
		this.#server = server;
		this.port = (server.address() as AddressInfo).port;
	}

	static async start(): Promise<WebhookReceiver> {
		let receiver: WebhookReceiver | null = null;
		const server = createServer((request, response) => {
			receiver!.#handle(request, response).catch((err: unknown) => {
				response.writeHead(500).end(String(err));
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		receiver = new WebhookReceiver(server);
		return receiver;
	}

	close(): Promise<void> {
		this.#server.closeAllConnections();
		return new Promise((resolve) => this.#server.close(() => resolve()));
	}

	async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const path = new URL(request.url ?? '/', 'http://x').pathname;
		const body = await readBody(request);
		const json = (status: number, value: unknown): void => {
			response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
		};

		if (request.method === 'POST' && path === '/control/inboxes') {
			const id = randomUUID();
			this.#inboxes.set(id, { deliveries: [], answers: [] });
			const inbox: WebhookInbox = { id, url: `https://127.0.0.1:${this.port}/hooks/${id}` };
			return json(200, inbox);
		}
		const control = /^\/control\/inboxes\/([\w-]+)\/(answers|deliveries)$/.exec(path);
		if (control) {
			const inbox = this.#inboxes.get(control[1]!);
			if (!inbox) return json(404, { error: 'no such inbox' });
			if (control[2] === 'answers' && request.method === 'POST') {
				inbox.answers.push(JSON.parse(body) as WebhookAnswer);
				return json(200, {});
			}
			return json(200, inbox.deliveries);
		}
		const hook = /^\/hooks\/([\w-]+)$/.exec(path);
		const inbox = hook && request.method === 'POST' ? this.#inboxes.get(hook[1]!) : undefined;
		if (!inbox) return json(404, { error: 'no such hook' });
		const answer = inbox.answers[0];
		if (answer && --answer.count <= 0) inbox.answers.shift();
		const status = answer?.status ?? 200;
		inbox.deliveries.push({
			at: Date.now(),
			status,
			headers: Object.fromEntries(
				Object.entries(request.headers).map(([name, value]) => [name, String(value)])
			),
			body
		});
		if (answer?.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
		if (answer?.location) response.setHeader('location', answer.location);
		json(status, {});
	}
}

function readBody(request: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		request.on('error', reject);
	});
}
