// Web Push: one notification to every device a person subscribed, unless they are in do not
// disturb. The message encryption (RFC 8291) and the VAPID signature (RFC 8292) are the library's;
// this file decides where to send, and what the push service's answer means for the subscription.
import { buildPushPayload, type VapidKeys } from '@block65/webcrypto-web-push';
import * as v from 'valibot';
import { isQuiet, type NotificationPayload } from '../../../shared/notify';
import { deliveryUrl } from '../../../shared/outbound-url';

/**
 * What sending needs: D1, and the VAPID configuration (secrets: wrangler.toml, `.dev.vars`), read
 * and checked by `vapidOf` when a push is sent rather than trusted from the generated types.
 */
export type PushEnv = {
	DB: D1Database;
	APP_ENV?: unknown;
	VAPID_PUBLIC_KEY?: unknown;
	VAPID_PRIVATE_KEY?: unknown;
	VAPID_SUBJECT?: unknown;
};

const Base64url = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/));
const VapidConfig = v.object({
	VAPID_PUBLIC_KEY: Base64url,
	VAPID_PRIVATE_KEY: Base64url,
	VAPID_SUBJECT: v.pipe(v.string(), v.regex(/^(mailto:|https:\/\/)/))
});

/** The VAPID keys, or null (logged) when the deployment lacks them or they are malformed. */
function vapidOf(env: PushEnv): VapidKeys | null {
	const parsed = v.safeParse(VapidConfig, env);
	if (!parsed.success) {
		const names = parsed.issues.map((issue) => v.getDotPath(issue)).join(', ');
		console.error(`web push: the VAPID configuration is missing or malformed (${names})`);
		return null;
	}
	const { VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, VAPID_SUBJECT } = parsed.output;
	return { publicKey: VAPID_PUBLIC_KEY, privateKey: VAPID_PRIVATE_KEY, subject: VAPID_SUBJECT };
}

/** Tries per subscription: the first, and two retries after a 429, a 5xx or a network error. */
export const MAX_PUSH_TRIES = 3;
/** The wait before a retry doubles from this, unless the push service says how long (Retry-After). */
export const RETRY_BASE_MS = 500;
/** No retry waits longer, whatever Retry-After asks: a notification hours late is worse than none. */
export const MAX_RETRY_DELAY_MS = 5_000;
/** How long a push service keeps a message for a device that is offline, in seconds. */
const PUSH_TTL_SECONDS = 24 * 60 * 60;

export type PushResult = 'sent' | 'removed' | 'failed';
export type PushOutcome = { quiet: boolean; results: PushResult[] };

type Row = {
	dnd_start: number | null;
	dnd_end: number | null;
	dnd_until: number | null;
	time_zone: string;
	id: string | null;
	endpoint: string | null;
	p256dh: string | null;
	auth: string | null;
};

/**
 * Pushes `payload` to each of the person's subscriptions, one D1 read for them and the person's
 * do-not-disturb settings. Nothing is sent while do not disturb holds. Answers what happened to
 * each subscription (in no particular order).
 */
export async function pushToUser(
	env: PushEnv,
	userId: string,
	payload: NotificationPayload,
	now = Date.now()
): Promise<PushOutcome> {
	const { results: rows } = await env.DB.prepare(
		`SELECT u.dnd_start, u.dnd_end, u.dnd_until, u.time_zone, s.id, s.endpoint, s.p256dh, s.auth
		 FROM users u LEFT JOIN push_subscriptions s ON s.user_id = u.id
		 WHERE u.id = ? AND u.deleted_at IS NULL`
	)
		.bind(userId)
		.all<Row>();
	const first = rows[0];
	if (!first) return { quiet: false, results: [] };
	const quiet = isQuiet(
		{
			dndStart: first.dnd_start,
			dndEnd: first.dnd_end,
			dndUntil: first.dnd_until,
			timeZone: first.time_zone
		},
		now
	);
	if (quiet) return { quiet, results: [] };
	const vapid = vapidOf(env);
	const subscriptions = rows.flatMap((r) =>
		r.id && r.endpoint && r.p256dh && r.auth
			? [{ id: r.id, endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth }]
			: []
	);
	const results = await Promise.all(
		subscriptions.map((s) => (vapid ? deliver(env, vapid, s, payload) : ('failed' as const)))
	);
	return { quiet, results };
}

type Subscription = { id: string; endpoint: string; p256dh: string; auth: string };

async function deliver(
	env: PushEnv,
	vapid: VapidKeys,
	subscription: Subscription,
	payload: NotificationPayload
): Promise<PushResult> {
	let request;
	try {
		// No RFC 8030 `Topic`: a push service would replace an undelivered message with the next of
		// the same topic, and the counts of a room's messages add up only where they are shown.
		request = await buildPushPayload(
			{ data: payload, options: { ttl: PUSH_TTL_SECONDS } },
			{
				endpoint: subscription.endpoint,
				expirationTime: null,
				keys: { p256dh: subscription.p256dh, auth: subscription.auth }
			},
			vapid
		);
	} catch (err) {
		// Keys the app validated but the library cannot use, or a VAPID key that is not one.
		console.error('web push: could not build the message', subscription.id, err);
		return 'failed';
	}
	// The library accepts https endpoints only; the VAPID JWT's audience stays the https origin the
	// subscription names (the push service checks it) when development reaches loopback over http.
	const url = deliveryUrl(subscription.endpoint, env.APP_ENV !== 'development');
	for (let attempt = 1; ; attempt++) {
		let delay: number;
		try {
			const response = await fetch(url, request);
			// The body is not needed; read it so the connection is freed.
			await response.body?.cancel();
			if (response.status === 200 || response.status === 201 || response.status === 202) {
				await env.DB.prepare('UPDATE push_subscriptions SET last_used_at = ? WHERE id = ?')
					.bind(Date.now(), subscription.id)
					.run();
				return 'sent';
			}
			if (response.status === 404 || response.status === 410) {
				// The browser unsubscribed or the subscription expired: it will never work again.
				await env.DB.prepare('DELETE FROM push_subscriptions WHERE id = ?')
					.bind(subscription.id)
					.run();
				return 'removed';
			}
			if (response.status !== 429 && response.status < 500) {
				console.warn('web push: refused', subscription.id, response.status);
				return 'failed';
			}
			delay = retryDelay(attempt, response.headers.get('retry-after'));
		} catch (err) {
			console.warn('web push: no answer', subscription.id, err);
			delay = retryDelay(attempt, null);
		}
		if (attempt >= MAX_PUSH_TRIES) return 'failed';
		await new Promise((resolve) => setTimeout(resolve, delay));
	}
}

/** Retry-After in seconds or as a date when given, else doubling from the base; capped either way. */
export function retryDelay(attempt: number, retryAfter: string | null, now = Date.now()): number {
	let ms = RETRY_BASE_MS * 2 ** (attempt - 1);
	if (retryAfter !== null) {
		const seconds = Number(retryAfter);
		const date = Date.parse(retryAfter);
		if (retryAfter.trim() !== '' && Number.isFinite(seconds)) ms = seconds * 1000;
		else if (Number.isFinite(date)) ms = date - now;
	}
	return Math.min(Math.max(ms, 0), MAX_RETRY_DELAY_MS);
}
