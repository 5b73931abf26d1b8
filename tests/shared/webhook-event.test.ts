// The signature on an outgoing webhook's delivery, as a receiver checks it.
import { describe, expect, it } from 'vitest';
import {
	WEBHOOK_TOLERANCE_SECONDS,
	signWebhook,
	verifyWebhookSignature
} from '$shared/webhook-event';

const secret = 'whsec_test';
const body = '{"type":"message","id":"room:1"}';
const now = 1_800_000_000;

describe('webhook signatures', () => {
	it('is HMAC-SHA256 over "<timestamp>.<body>", in hex, with its timestamp', async () => {
		const header = await signWebhook(secret, now, body);
		const key = await crypto.subtle.importKey(
			'raw',
			new TextEncoder().encode(secret),
			{ name: 'HMAC', hash: 'SHA-256' },
			false,
			['sign']
		);
		const mac = new Uint8Array(
			await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${now}.${body}`))
		);
		const hex = Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
		expect(header).toBe(`t=${now},v1=${hex}`);
	});

	it('verifies its own signature, and nothing changed: body, secret, timestamp or form', async () => {
		const header = await signWebhook(secret, now, body);
		expect(await verifyWebhookSignature(secret, header, body, now)).toBe(true);
		expect(await verifyWebhookSignature(secret, header, `${body} `, now)).toBe(false);
		expect(await verifyWebhookSignature('whsec_other', header, body, now)).toBe(false);
		const moved = header.replace(`t=${now}`, `t=${now + 1}`);
		expect(await verifyWebhookSignature(secret, moved, body, now)).toBe(false);
		for (const broken of [
			'',
			'v1=abc',
			`t=${now}`,
			`t=${now},v1=zz`,
			`t=soon,v1=${'0'.repeat(64)}`
		]) {
			expect(await verifyWebhookSignature(secret, broken, body, now), broken).toBe(false);
		}
	});

	it('refuses a delivery older or newer than the tolerance: a replay is refused', async () => {
		const header = await signWebhook(secret, now, body);
		const edge = now + WEBHOOK_TOLERANCE_SECONDS;
		expect(await verifyWebhookSignature(secret, header, body, edge)).toBe(true);
		expect(await verifyWebhookSignature(secret, header, body, edge + 1)).toBe(false);
		expect(
			await verifyWebhookSignature(secret, header, body, now - WEBHOOK_TOLERANCE_SECONDS - 1)
		).toBe(false);
	});
});
