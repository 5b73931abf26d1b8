// push-fanout: one message in a large room whose members have no tab open, and how soon it reaches
// each member's device through Web Push. Every member but the sender subscribes one device at the
// tests' push service (a Node server on loopback that checks each message's VAPID signature and
// decrypts it, as a real push service and the browser would), through the app's own subscription
// API. Then the sender sends one message: the room tells each member's hub (after its signal
// window, in chunks), and each hub, with no tab to tell, pushes to the member's device. The figures
// are from the send to each device's message arriving, decrypted and checked, at the push service.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PushDevice, PushRecord } from '../../../tests/support/push-client.ts';
import { ensureDevVars, REALTIME_DEV_VARS } from '../../dev-vars.ts';
import type { Account } from '../../lib/parley-client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { inParallel } from '../accounts.ts';
import { log } from '../log.ts';
import { roomSender } from '../room-fill.ts';
import { Histogram, round } from '../stats.ts';

/** The longest wait for the pushes after the send; the scenario reports what arrived by then. */
const WAIT_MS = 60_000;
/** Subscription requests in flight at once. */
const CONCURRENCY = 8;
const POLL_MS = 50;

/**
 * What the scenario uses of the tests' push service (tests/support/push-service.ts). That module
 * is loaded when the scenario runs, by a path the scripts' type check does not follow: it is typed
 * and checked with the tests, under their compiler settings.
 */
type PushService = {
	origin: string;
	rejected: { reason: string }[];
	subscribe: () => PushDevice;
	records: (id: string) => PushRecord[];
	delivered: (id: string) => string[];
	close: () => Promise<void>;
};
const PUSH_SERVICE_MODULE = '../../../tests/support/push-service.ts';

async function startPushService(vapidPublicKey: string): Promise<PushService> {
	const module = (await import(PUSH_SERVICE_MODULE)) as {
		PushService: { start: (options: { vapidPublicKey: string }) => Promise<PushService> };
	};
	return module.PushService.start({ vapidPublicKey });
}

/** Whether a push says what the app's notification for this room says (shared/notify.ts). */
function isRoomNotification(plaintext: string | null, roomId: string, seq: number): boolean {
	try {
		const payload = JSON.parse(plaintext ?? 'null') as Record<string, unknown> | null;
		return (
			payload?.tag === `room:${roomId}` &&
			typeof payload.title === 'string' &&
			typeof payload.body === 'string' &&
			payload.url === `/rooms/${roomId}?m=${seq}` &&
			payload.count === 1
		);
	} catch {
		return false;
	}
}

/** The key the realtime worker signs with, as `wrangler dev` reads it (scripts/dev-vars.ts). */
async function vapidPublicKey(): Promise<string> {
	await ensureDevVars();
	const match = /^VAPID_PUBLIC_KEY=(.+)$/m.exec(readFileSync(REALTIME_DEV_VARS, 'utf8'));
	if (!match) throw new Error(`no VAPID_PUBLIC_KEY in ${REALTIME_DEV_VARS}`);
	return match[1]!.trim().replace(/^"(.*)"$/, '$1');
}

async function api(ctx: Context, account: Account, method: string, path: string, body?: unknown) {
	const response = await fetch(`${ctx.base}${path}`, {
		method,
		headers: {
			cookie: account.cookie,
			origin: new URL(ctx.base).origin,
			...(body === undefined ? {} : { 'content-type': 'application/json' })
		},
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: ctx.signal
	});
	if (!response.ok) {
		throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
	}
	return response.status === 204 ? null : ((await response.json()) as { id: string });
}

type Device = { account: Account; device: PushDevice; subscriptionId: string };

export const pushFanout: Scenario = {
	defaults: { clients: 1000, senders: 1, rate: 0, duration: 0 },
	// The sender and the members to push to: `clients` in all.
	accounts: (s) => Math.max(2, s.clients),
	async run(ctx: Context, s: Settings): Promise<Result> {
		const roomId = ctx.rooms['push-fanout'];
		if (!roomId) throw new Error('no room seeded for push-fanout');
		const members = Math.max(2, s.clients);
		const [sender, ...recipients] = ctx.accounts.slice(0, members) as [Account, ...Account[]];
		const service = await startPushService(await vapidPublicKey());
		const devices: Device[] = [];
		try {
			log(`push-fanout: subscribing ${recipients.length} devices at ${service.origin}`);
			let started = performance.now();
			await inParallel(recipients, CONCURRENCY, async (account) => {
				const device = service.subscribe();
				const saved = await api(ctx, account, 'POST', '/api/push/subscriptions', {
					endpoint: device.endpoint,
					keys: device.keys,
					label: 'Bench device'
				});
				devices.push({ account, device, subscriptionId: saved!.id });
			});
			const subscribeMs = Math.round(performance.now() - started);

			const socket = await roomSender(ctx, sender, roomId);
			const body = `Fan-out ${Date.now()}: one message for ${recipients.length} devices.`;
			log(`push-fanout: one message, waiting up to ${WAIT_MS / 1000} s for the pushes`);
			const sentAt = Date.now();
			started = performance.now();
			const seq = await socket.send(body).finally(() => socket.close());
			const ackMs = Math.round(performance.now() - started);

			// Each device's first accepted push, checked against what the message should say.
			const arrivals = new Map<string, number>();
			let wrong = 0;
			while (arrivals.size < devices.length && Date.now() - sentAt < WAIT_MS) {
				ctx.signal.throwIfAborted();
				for (const { device } of devices) {
					if (arrivals.has(device.id)) continue;
					const records = service.records(device.id);
					const accepted = records.find((r) => r.status === 201);
					if (!accepted) continue;
					if (!isRoomNotification(accepted.payload, roomId, seq)) wrong++;
					arrivals.set(device.id, accepted.at);
				}
				await sleep(POLL_MS, undefined, { signal: ctx.signal });
			}
			// A single message is one push per device; any more would be a burst pushed twice.
			let extra = 0;
			for (const { device } of devices)
				extra += Math.max(0, service.delivered(device.id).length - 1);

			const refusal = service.rejected[0];
			if (refusal) log(`push-fanout: the push service refused a message: ${refusal.reason}`);
			const latency = new Histogram();
			let first = Infinity;
			let last = 0;
			for (const at of arrivals.values()) {
				latency.add(at - sentAt);
				first = Math.min(first, at);
				last = Math.max(last, at);
			}
			const arrived = arrivals.size;
			return {
				scenario: 'push-fanout',
				members,
				seq,
				subscribeMs,
				ackMs,
				expected: devices.length,
				arrived,
				missing: devices.length - arrived,
				wrongPayloads: wrong,
				extraPushes: extra,
				// Messages the push service refused before decrypting (bad signature, unknown device).
				rejected: service.rejected.length,
				firstMs: arrived ? first - sentAt : null,
				p50Ms: round(latency.quantile(0.5), 0),
				p99Ms: round(latency.quantile(0.99), 0),
				maxMs: arrived ? last - sentAt : null,
				// From the send to the last push, and from the first push to the last.
				deliveriesPerSecond: arrived ? round(arrived / ((last - sentAt) / 1000), 1) : 0,
				spreadPerSecond: arrived > 1 ? round((arrived - 1) / ((last - first) / 1000), 1) : null,
				waitedMs: Math.min(WAIT_MS, Date.now() - sentAt)
			};
		} finally {
			// The accounts take part in the scenarios after this one: their devices must not outlive it.
			let kept = 0;
			let why = '';
			await inParallel(devices, CONCURRENCY, async ({ account, subscriptionId }) => {
				await api(ctx, account, 'DELETE', `/api/push/subscriptions/${subscriptionId}`).catch(
					(error: unknown) => {
						kept++;
						why ||=
							error instanceof Error && error.cause
								? `${error.message}: ${String(error.cause)}`
								: String(error);
					}
				);
			});
			if (kept) log(`push-fanout: ${kept} devices could not be removed: ${why}`);
			await service.close();
		}
	}
};
