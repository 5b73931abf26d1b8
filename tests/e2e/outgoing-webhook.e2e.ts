// A bot's outgoing webhook: the room's owner points it at an address in the room's details (Bots)
// and gets its signing secret, shown once; each new message in the room then reaches that address
// as a signed POST, or, once it is set to mentions only, just those that mention the bot. The
// receiver is the tests' own on loopback (tests/support/webhook-receiver.ts), reached over plain
// http as development allows.
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { expectConnected, message, say } from './realtime-support';
import { persona } from './support';
import { createRoom, expectNoSeriousA11yViolations, openDetails, personAt } from './ui-support';
import { verifyWebhookSignature, type WebhookEvent } from '../../shared/webhook-event';
import { WebhookReceiver } from '../support/webhook-receiver';
import {
	WebhookReceiverClient,
	type WebhookDelivery,
	type WebhookInbox
} from '../support/webhook-receiver-client';

let receiver: WebhookReceiver;
let client: WebhookReceiverClient;
test.beforeAll(async () => {
	receiver = await WebhookReceiver.start();
	client = new WebhookReceiverClient(receiver.port);
});
test.afterAll(async () => {
	await receiver.close();
});

/** The deliveries that reached the inbox, once there are `count` of them. */
async function deliveriesOnce(inbox: WebhookInbox, count: number): Promise<WebhookDelivery[]> {
	await expect
		.poll(async () => (await client.deliveries(inbox.id)).length, { timeout: 15_000 })
		.toBe(count);
	return client.deliveries(inbox.id);
}

/** A delivery whose signature checks out with `secret`, as a receiver would read it. */
async function verified(delivery: WebhookDelivery, secret: string): Promise<WebhookEvent> {
	const signature = delivery.headers['parley-signature'] ?? '';
	expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
	expect(await verifyWebhookSignature(secret, signature, delivery.body)).toBe(true);
	expect(await verifyWebhookSignature('whsec_not-the-secret', signature, delivery.body)).toBe(
		false
	);
	expect(delivery.headers['content-type']).toMatch(/^application\/json/);
	return JSON.parse(delivery.body) as WebhookEvent;
}

/** What the card says after a `<dt>` (Sends to, Last delivered…). */
function detail(card: Locator, term: string): Locator {
	return card.locator(`dt:text-is("${term}") + dd`);
}

/** The seq of the message as the timeline shows it. */
async function seqOf(page: Page, text: string): Promise<number> {
	return Number(await message(page, text).getAttribute('data-seq'));
}

test('a bot’s outgoing webhook gets the room’s messages, signed, then only those that mention it', async ({
	browser
}) => {
	const inbox = await client.inbox();
	const owner = await personAt(browser, persona('ana'), 'desktop');
	const room = await createRoom(owner, 'Build watch');
	const roomId = room.split('/').pop()!;

	await openDetails(owner, room, 'bots');
	const panel = owner.getByRole('tabpanel', { name: 'Bots' });
	await panel.getByLabel('Name').fill('Relay');
	await panel.getByRole('button', { name: 'Add bot' }).click();
	const card = panel.getByRole('article', { name: /^Relay/ });
	await expect(card.getByText('No outgoing webhook.')).toBeVisible();
	const botUsername = (await card.getByRole('link', { name: /^@/ }).textContent())!.slice(1);

	// An address that is not https is refused, beside the field, and stays to be corrected.
	const address = card.getByLabel('Webhook address');
	await address.fill(`http://127.0.0.1:${receiver.port}/hook`);
	await card.getByRole('button', { name: 'Save outgoing webhook' }).click();
	await expect(address).toHaveAttribute('aria-invalid', 'true');
	await expect(address).toHaveAccessibleDescription(/The address must be an https URL\./);
	await expect(address).toHaveValue(`http://127.0.0.1:${receiver.port}/hook`);
	await expect(card.getByText('No outgoing webhook.')).toBeVisible();

	// Every message, to the receiver: the answer shows the signing secret, once.
	await address.fill(inbox.url);
	await expect(card.getByLabel('Every message')).toBeChecked();
	await card.getByRole('button', { name: 'Save outgoing webhook' }).click();
	const field = card.getByLabel('Signing secret for Relay');
	await expect(field).toBeFocused();
	const secret = await field.inputValue();
	expect(secret).toMatch(/^whsec_\S+$/);
	await expect(
		card.getByRole('status').filter({ hasText: 'Signing secret created for Relay.' })
	).toContainText('Copy it now: it will not be shown again.');
	await expect(card.getByText('Parley-Signature', { exact: true }).first()).toBeVisible();
	await expect(card.getByRole('link', { name: 'How to verify a delivery' })).toHaveAttribute(
		'href',
		'/docs/api#outgoing-webhooks'
	);
	await expect(detail(card, 'Sends to')).toHaveText(inbox.url);
	await expect(detail(card, 'Sends')).toHaveText('Every message');
	await expect(detail(card, 'Last delivered')).toHaveText('Never');
	await expect(address).toHaveValue(inbox.url);
	await expect(address).not.toHaveAttribute('aria-invalid');
	for (const colorScheme of ['light', 'dark'] as const) {
		await owner.emulateMedia({ colorScheme });
		await expectNoSeriousA11yViolations(
			owner,
			`the Bots section with an outgoing webhook and its signing secret (${colorScheme})`
		);
	}

	// A message in the room reaches the receiver once, signed, as the event the API describes.
	const chat = await owner.context().newPage();
	await chat.goto(room);
	await expectConnected(chat);
	await say(chat, 'Deploy 7 finished');
	await expect(message(chat, 'Deploy 7 finished')).toBeVisible();
	const seq = await seqOf(chat, 'Deploy 7 finished');
	const [first] = await deliveriesOnce(inbox, 1);
	const event = await verified(first!, secret);
	expect(first!.headers['parley-event-id']).toBe(`${roomId}:${seq}`);
	expect(event).toMatchObject({
		type: 'message',
		id: `${roomId}:${seq}`,
		room: { id: roomId, name: 'Build watch' },
		bot: { username: botUsername },
		message: { seq, body: 'Deploy 7 finished', senderName: 'Ana', kind: 'text' },
		mentioned: false
	});
	expect(first!.headers['parley-webhook-id']).toBe(event.webhookId);

	// The card says when it last delivered.
	await expect(async () => {
		await owner.reload();
		await expect(detail(card, 'Last delivered').locator('time')).toBeVisible({ timeout: 1000 });
	}).toPass();
	// The secret was shown once: it is not on the page again.
	await expect(card.getByLabel('Signing secret for Relay')).toHaveCount(0);

	// Only mentions: saving the change keeps the secret, and says so.
	await card.getByLabel('Only messages that mention the bot').check();
	await card.getByRole('button', { name: 'Save outgoing webhook' }).click();
	await expect(card.getByText('Outgoing webhook saved.')).toBeVisible();
	await expect(card.getByRole('button', { name: 'Save outgoing webhook' })).toBeFocused();
	await expect(detail(card, 'Sends')).toHaveText('Only messages that mention the bot');
	await expect(card.getByLabel('Signing secret for Relay')).toHaveCount(0);

	// A plain message is not sent; one that mentions the bot is (in order, so the plain one would
	// have arrived first).
	await say(chat, 'Lunch at noon');
	await expect(message(chat, 'Lunch at noon')).toBeVisible();
	await say(chat, `@${botUsername} deploy 8 please`);
	await expect(message(chat, 'deploy 8 please').locator('.mention')).toHaveText(`@${botUsername}`);
	const mentionSeq = await seqOf(chat, 'deploy 8 please');
	const second = (await deliveriesOnce(inbox, 2))[1]!;
	expect(second.headers['parley-event-id']).toBe(`${roomId}:${mentionSeq}`);
	expect(await verified(second, secret)).toMatchObject({
		type: 'message',
		room: { id: roomId },
		message: { seq: mentionSeq, body: `@${botUsername} deploy 8 please` },
		mentioned: true
	});

	// A receiver that fails: the card says so, with what it answered.
	await client.answerNext(inbox.id, { status: 500, count: 1 });
	await say(chat, `@${botUsername} deploy 9 please`);
	expect((await deliveriesOnce(inbox, 3))[2]!.status).toBe(500);
	await expect(async () => {
		await owner.reload();
		await expect(detail(card, 'Failing')).toContainText('The receiver answered 500.', {
			timeout: 1000
		});
	}).toPass();
	await expect(detail(card, 'Failing')).toContainText('1 failed delivery');

	// Deleting it asks first; then the card has none.
	await card.getByRole('button', { name: 'Delete outgoing webhook' }).click();
	const dialog = owner.getByRole('dialog', { name: 'Delete the outgoing webhook of Relay?' });
	await dialog.getByRole('button', { name: 'Delete outgoing webhook' }).click();
	await expect(dialog).toBeHidden();
	await expect(card.getByText('No outgoing webhook.')).toBeVisible();
	await expect(address).toHaveValue('');
});
