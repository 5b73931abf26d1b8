// A push service on loopback for the tests, speaking the real protocol: it checks each message's
// VAPID authorization (RFC 8292: an ES256 JWT signed with the key named in `k`, for this origin,
// expiring within a day, with a contact), requires the aes128gcm encoding (RFC 8188) and a TTL,
// decrypts the body with the subscription's private key and auth secret (RFC 8291), and records the
// plaintext. Each endpoint path is a subscription the test made here: the service plays the
// browser too, generating the device's key pair and auth secret.
//
// It listens on plain http: loopback has no TLS here, and the realtime worker sends to a loopback
// endpoint over http in development (workers/realtime/src/web-push.ts). Endpoints still say https,
// as a browser's do, and the JWT's audience must be that https origin.
//
// Node runs it (Playwright tests, and vitest's globalSetup); tests in workerd drive it over HTTP
// through `PushServiceClient`.
import { createECDH, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ece from 'http_ece';
import { importJWK, jwtVerify } from 'jose';
import type { PushDevice, PushFailure, PushRecord } from './push-client';

export type { PushDevice, PushFailure, PushRecord } from './push-client';

const DAY_SECONDS = 24 * 60 * 60;

type Subscription = {
	device: PushDevice;
	ecdh: ECDH;
	auth: Buffer;
	failures: PushFailure[];
	records: PushRecord[];
};

export class PushService {
	readonly port: number;
	/** Messages refused before decryption (bad authorization, encoding, unknown path), for debugging. */
	readonly rejected: { path: string; status: number; reason: string }[] = [];
	#server: Server;
	#subscriptions = new Map<string, Subscription>();
	#vapidPublicKey: string;

	private constructor(server: Server, vapidPublicKey: string) {
		this.#server = server;
		this.port = (server.address() as AddressInfo).port;
		this.#vapidPublicKey = vapidPublicKey;
	}

	/** Starts listening on 127.0.0.1 at a free port; only messages signed by this VAPID key pass. */
	static async start(options: { vapidPublicKey: string }): Promise<PushService> {
		let service: PushService | null = null;
		const server = createServer((request, response) => {
			service!.#handle(request, response).catch((err: unknown) => {
				response.writeHead(500).end(String(err));
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		service = new PushService(server, options.vapidPublicKey);
		return service;
	}

	/** The https origin endpoints name (what the JWT's `aud` must be). */
	get origin(): string {
		return `https://127.0.0.1:${this.port}`;
	}

	/** A new device: what its browser's `PushSubscription.toJSON()` would say. */
	subscribe(): PushDevice {
		const id = randomUUID();
		const ecdh = createECDH('prime256v1');
		ecdh.generateKeys();
		const auth = randomBytes(16);
		const device: PushDevice = {
			id,
			endpoint: `${this.origin}/push/${id}`,
			keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }
		};
		this.#subscriptions.set(id, { device, ecdh, auth, failures: [], records: [] });
		return device;
	}

	/** The next `count` messages to the device are answered with `status` (and Retry-After). */
	failNext(id: string, failure: PushFailure): void {
		this.#subscription(id).failures.push({ ...failure });
	}

	/** Every message that reached the device's endpoint, failed on purpose or accepted. */
	records(id: string): PushRecord[] {
		return [...this.#subscription(id).records];
	}

	/** The decrypted payloads the device accepted, oldest first. */
	delivered(id: string): string[] {
		return this.#subscription(id).records.flatMap((r) => (r.status === 201 ? [r.payload!] : []));
	}

	async close(): Promise<void> {
		this.#server.closeAllConnections();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}

	#subscription(id: string): Subscription {
		const subscription = this.#subscriptions.get(id);
		if (!subscription) throw new Error(`no push subscription ${id}`);
		return subscription;
	}

	async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const url = new URL(request.url ?? '/', this.origin);
		const body = await readBody(request);
		if (url.pathname.startsWith('/control/')) return this.#control(request, url, body, response);
		const match = /^\/push\/([^/]+)$/.exec(url.pathname);
		const subscription = match ? this.#subscriptions.get(match[1]!) : undefined;
		const refuse = (status: number, reason: string) => {
			this.rejected.push({ path: url.pathname, status, reason });
			response.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
		};
		if (request.method !== 'POST') return refuse(405, 'push messages are POSTed');
		if (!subscription) return refuse(404, 'no such subscription');

		const authorization = await this.#checkVapid(request.headers.authorization);
		if (authorization) return refuse(401, authorization);
		if (request.headers['content-encoding'] !== 'aes128gcm') {
			return refuse(415, 'the content encoding must be aes128gcm');
		}
		const ttl = request.headers.ttl;
		if (typeof ttl !== 'string' || !/^\d+$/.test(ttl))
			return refuse(400, 'a TTL header is required');

		let payload: string;
		try {
			payload = ece
				.decrypt(body, {
					version: 'aes128gcm',
					privateKey: subscription.ecdh,
					authSecret: subscription.auth
				})
				.toString('utf8');
		} catch (err) {
			return refuse(400, `the body does not decrypt: ${String(err)}`);
		}

		const failure = subscription.failures[0];
		if (failure) {
			if (--failure.count <= 0) subscription.failures.shift();
			subscription.records.push({
				status: failure.status,
				payload,
				at: Date.now(),
				ttl: Number(ttl)
			});
			const headers: Record<string, string> = {};
			if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
			response.writeHead(failure.status, headers).end();
			return;
		}
		subscription.records.push({ status: 201, payload, at: Date.now(), ttl: Number(ttl) });
		response.writeHead(201, { location: `${this.origin}/message/${randomUUID()}` }).end();
	}

	/** Null when the `vapid t=<jwt>, k=<key>` header is right; else what is wrong with it. */
	async #checkVapid(header: string | undefined): Promise<string | null> {
		const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
		if (!match) return 'the authorization must be "vapid t=<jwt>, k=<key>"';
		const [, token, k] = match as unknown as [string, string, string];
		if (k !== this.#vapidPublicKey) return 'k is not the application server key';
		const point = Buffer.from(k, 'base64url');
		if (point.length !== 65 || point[0] !== 4) return 'k is not an uncompressed P-256 point';
		const key = await importJWK(
			{
				kty: 'EC',
				crv: 'P-256',
				x: point.subarray(1, 33).toString('base64url'),
				y: point.subarray(33, 65).toString('base64url')
			},
			'ES256'
		);
		try {
			const { payload } = await jwtVerify(token, key, {
				algorithms: ['ES256'],
				audience: this.origin,
				requiredClaims: ['exp', 'sub']
			});
			if (payload.exp! > Date.now() / 1000 + DAY_SECONDS) return 'exp is more than 24 hours away';
			if (!/^(mailto:|https:)/.test(String(payload.sub))) return 'sub must be mailto: or https:';
			return null;
		} catch (err) {
			return `the JWT does not verify: ${String(err)}`;
		}
	}

	/** The control API for tests in workerd (see PushServiceClient). */
	#control(request: IncomingMessage, url: URL, body: Buffer, response: ServerResponse): void {
		const send = (status: number, value: unknown): void => {
			response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
		};
		try {
			if (request.method === 'POST' && url.pathname === '/control/subscriptions') {
				return send(201, this.subscribe());
			}
			const match = /^\/control\/subscriptions\/([^/]+)\/(failures|records)$/.exec(url.pathname);
			if (match && request.method === 'POST' && match[2] === 'failures') {
				this.failNext(match[1]!, JSON.parse(body.toString('utf8')) as PushFailure);
				return send(200, {});
			}
			if (match && request.method === 'GET' && match[2] === 'records') {
				return send(200, this.records(match[1]!));
			}
			send(404, { error: 'no such control' });
		} catch (err) {
			send(400, { error: String(err) });
		}
	}
}

function readBody(request: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks)));
		request.on('error', reject);
	});
}
