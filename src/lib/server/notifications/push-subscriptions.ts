// A person's Web Push subscriptions: one per browser that turned notifications on. The realtime
// worker sends to them (workers/realtime/src/web-push.ts); this module keeps the list. An endpoint
// is a URL our worker will POST to on the person's behalf, so it must be a push service's: https,
// and never an address on a local network (loopback is let through in development, where the
// tests' push service listens).
import { decodeBase64urlIgnorePadding, encodeHexLowerCase } from '@oslojs/encoding';
import { sha256 } from '@oslojs/crypto/sha2';
import { and, desc, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { generateId } from '$lib/server/ids';
import { pushSubscriptions } from '$shared/db/schema';
import { outboundUrlProblem } from '$shared/outbound-url';

/** Devices one person may subscribe; the oldest must be removed in settings to add another. */
export const MAX_PUSH_SUBSCRIPTIONS = 20;
/** Push services' endpoints are a few hundred characters; anything far longer is not one. */
const MAX_ENDPOINT_LENGTH = 2048;
const MAX_LABEL_LENGTH = 100;

export type PushRefusal = {
	ok: false;
	status: 400 | 404 | 409;
	code: 'bad_input' | 'not_found' | 'too_many_devices';
	message: string;
};

function refuse(status: PushRefusal['status'], code: PushRefusal['code'], message: string) {
	return { ok: false, status, code, message } satisfies PushRefusal;
}

/** A base64url key (as `PushSubscription.toJSON()` gives it) that decodes to `bytes` bytes. */
const Base64urlKey = (name: string, bytes: number) =>
	v.pipe(
		v.string(`The ${name} key must be a string.`),
		v.regex(/^[A-Za-z0-9_-]+={0,2}$/, `The ${name} key must be base64url.`),
		v.transform((key) => key.replace(/=+$/, '')),
		v.check(
			(key) => decodedLength(key) === bytes,
			`The ${name} key must be ${bytes} bytes once decoded.`
		)
	);

function decodedLength(key: string): number {
	try {
		return decodeBase64urlIgnorePadding(key).length;
	} catch {
		return -1;
	}
}

/** What `POST /api/push/subscriptions` takes: the browser's `PushSubscription.toJSON()`, a label. */
export const PushSubscriptionInput = v.object({
	endpoint: v.pipe(
		v.string('The endpoint must be a URL.'),
		v.maxLength(MAX_ENDPOINT_LENGTH, 'The endpoint is too long to be a push service.'),
		v.url('The endpoint must be a URL.')
	),
	keys: v.object(
		{ p256dh: Base64urlKey('p256dh', 65), auth: Base64urlKey('auth', 16) },
		'The keys must be an object with p256dh and auth.'
	),
	label: v.optional(
		v.pipe(v.string('The label must be text.'), v.trim(), v.maxLength(MAX_LABEL_LENGTH)),
		''
	)
});

/** Why an endpoint cannot be one we send to, or null when it can. */
export function endpointProblem(endpoint: string, production: boolean): string | null {
	const problem = outboundUrlProblem(endpoint, production);
	return problem && `The endpoint ${problem}`;
}

export type SubscriptionSaved = { ok: true; id: string; created: boolean };

/**
 * Adds this browser's subscription for the person, or updates it when the endpoint is known (new
 * keys or label). An endpoint subscribed by someone else moves to this person: a browser notifies
 * whoever signed in on it last. Refused past MAX_PUSH_SUBSCRIPTIONS devices; bad input changes
 * nothing.
 */
export async function savePushSubscription(
	db: Db,
	userId: string,
	input: unknown,
	options: { production: boolean }
): Promise<SubscriptionSaved | PushRefusal> {
	const parsed = v.safeParse(PushSubscriptionInput, input);
	if (!parsed.success) return refuse(400, 'bad_input', parsed.issues[0].message);
	const { endpoint, keys, label } = parsed.output;
	const problem = endpointProblem(endpoint, options.production);
	if (problem) return refuse(400, 'bad_input', problem);

	const id = generateId();
	// One statement: the count and the write cannot be split by another device's request.
	const row = await db.get<{ id: string }>(sql`
		INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, label, created_at)
		SELECT ${id}, ${userId}, ${endpoint}, ${keys.p256dh}, ${keys.auth}, ${label}, ${Date.now()}
		WHERE (SELECT COUNT(*) FROM push_subscriptions
		       WHERE user_id = ${userId} AND endpoint <> ${endpoint}) < ${MAX_PUSH_SUBSCRIPTIONS}
		ON CONFLICT (endpoint) DO UPDATE SET
			user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
			label = excluded.label
		RETURNING id`);
	if (!row) {
		return refuse(
			409,
			'too_many_devices',
			`You can get notifications on at most ${MAX_PUSH_SUBSCRIPTIONS} devices: remove one first.`
		);
	}
	return { ok: true, id: row.id, created: row.id === id };
}

/** A subscription as the person's device list shows it: never the endpoint or its keys. */
export type PushSubscriptionSummary = {
	id: string;
	label: string;
	createdAt: number;
	lastUsedAt: number | null;
	/** SHA-256 of the endpoint, hex: how a page tells "this browser" among the list. */
	endpointHash: string;
};

export async function listPushSubscriptions(
	db: Db,
	userId: string
): Promise<PushSubscriptionSummary[]> {
	const rows = await db
		.select({
			id: pushSubscriptions.id,
			label: pushSubscriptions.label,
			createdAt: pushSubscriptions.createdAt,
			lastUsedAt: pushSubscriptions.lastUsedAt,
			endpoint: pushSubscriptions.endpoint
		})
		.from(pushSubscriptions)
		.where(eq(pushSubscriptions.userId, userId))
		.orderBy(desc(pushSubscriptions.createdAt), pushSubscriptions.id);
	return rows.map(({ endpoint, ...row }) => ({ ...row, endpointHash: endpointHash(endpoint) }));
}

/** The endpoint's fingerprint, as the page computes it too (SHA-256, hex). */
export function endpointHash(endpoint: string): string {
	return encodeHexLowerCase(sha256(new TextEncoder().encode(endpoint)));
}

/** Removes one of the person's subscriptions; someone else's reads as not found. */
export async function removePushSubscription(
	db: Db,
	userId: string,
	id: string
): Promise<{ ok: true } | PushRefusal> {
	const removed = await db
		.delete(pushSubscriptions)
		.where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, userId)))
		.returning({ id: pushSubscriptions.id });
	if (removed.length === 0) return refuse(404, 'not_found', 'No such device.');
	return { ok: true };
}
