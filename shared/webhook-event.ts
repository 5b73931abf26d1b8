// What a bot's outgoing webhook POSTs, and how it is signed. The realtime worker's webhook outbox
// builds and signs each delivery; the API's reference describes the event from the same schema
// (OpenAPI's `webhooks`), and a receiver verifies the signature as `verifyWebhookSignature` does.
import { decodeHex, encodeHexLowerCase } from '@oslojs/encoding';
import * as v from 'valibot';
import { ChatMessage } from './protocol';

/** Names the webhook (its id), so that one receiver can serve several. */
export const WEBHOOK_ID_HEADER = 'Parley-Webhook-Id';
/** The event's id: the same on every retry of it, so that a receiver can drop a repeat. */
export const WEBHOOK_EVENT_ID_HEADER = 'Parley-Event-Id';
/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the webhook's secret>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'Parley-Signature';
/** A receiver should refuse a delivery whose timestamp is further than this from its clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;
/** A receiver that has not answered within this has failed. */
export const DELIVERY_TIMEOUT_SECONDS = 10;
/** Failed deliveries in a row before a webhook is turned off (about 75 minutes of retrying). */
export const WEBHOOK_MAX_FAILURES = 10;
/** The first retry waits this long, doubling per failure in a row up to WEBHOOK_RETRY_MAX_MS. */
export const WEBHOOK_RETRY_BASE_MS = 10_000;
export const WEBHOOK_RETRY_MAX_MS = 30 * 60_000;

export const WebhookEvent = v.pipe(
	v.object({
		type: v.pipe(v.literal('message'), v.description('A new message in the bot’s room.')),
		id: v.pipe(v.string(), v.description('The event’s id, the same on every retry of it.')),
		webhookId: v.string(),
		room: v.object({ id: v.string(), name: v.string() }),
		/** The bot the webhook belongs to. */
		bot: v.object({ id: v.string(), username: v.string() }),
		message: ChatMessage,
		mentioned: v.pipe(v.boolean(), v.description('Whether the message mentions the bot.'))
	}),
	v.description(
		'POSTed to a bot’s outgoing webhook for each new message in its room (or each that mentions ' +
			'it), oldest first, signed in the `Parley-Signature` header.'
	)
);
export type WebhookEvent = v.InferOutput<typeof WebhookEvent>;

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export async function signWebhook(
	secret: string,
	timestamp: number,
	body: string
): Promise<string> {
	return `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}

/**
 * Whether `header` is a signature of `body` by `secret`, made within the tolerance of `now` (unix
 * seconds). What a receiver does; the tests do it too.
 */
export async function verifyWebhookSignature(
	secret: string,
	header: string,
	body: string,
	now = Math.floor(Date.now() / 1000)
): Promise<boolean> {
	const parts = new Map(
		header.split(',').map((part) => {
			const at = part.indexOf('=');
			return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
		})
	);
	const timestamp = Number(parts.get('t'));
	const given = parts.get('v1');
	if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) return false;
	if (Math.abs(now - timestamp) > WEBHOOK_TOLERANCE_SECONDS) return false;
	const key = await hmacKey(secret);
	return crypto.subtle.verify(
		'HMAC',
		key,
		new Uint8Array(decodeHex(given)),
		new TextEncoder().encode(`${timestamp}.${body}`)
	);
}

function hmacKey(secret: string): Promise<CryptoKey> {
	return crypto.subtle.importKey(
		'raw',
		new TextEncoder().encode(secret),
		{ name: 'HMAC', hash: 'SHA-256' },
		false,
		['sign', 'verify']
	);
}

async function hmacHex(secret: string, data: string): Promise<string> {
	const mac = await crypto.subtle.sign(
		'HMAC',
		await hmacKey(secret),
		new TextEncoder().encode(data)
	);
	return encodeHexLowerCase(new Uint8Array(mac));
}
