// Bots: a room's owner adds one in the room's details (Bots), gives it a webhook URL shown once,
// and anything holding that URL posts into the room as the bot: the message arrives live, marked
// as a bot's, and the bot is in the member list, marked too. Deleting the webhook stops the URL.
import { expect, test } from './fixtures';
import { expectConnected, message, roomAction } from './realtime-support';
import { persona } from './support';
import {
	createRoom,
	expectAccessibleInBothThemes,
	expectNoSeriousA11yViolations,
	personAt
} from './ui-support';

test('a bot’s webhook posts into its room, live, marked as a bot', async ({ browser, request }) => {
	const owner = await personAt(browser, persona('ana'), 'desktop');
	const room = await createRoom(owner, 'Release train');

	await owner.goto(`${room}/details?tab=bots`);
	await expect(owner.getByRole('tab', { selected: true })).toHaveText('Bots');
	const panel = owner.getByRole('tabpanel', { name: 'Bots' });
	await expect(panel.getByRole('link', { name: 'API reference' })).toHaveAttribute(
		'href',
		'/docs/api'
	);
	await panel.getByLabel('Name').fill('Deploys');
	await panel.getByRole('button', { name: 'Add bot' }).click();
	const card = panel.getByRole('article', { name: /^Deploys/ });
	await expect(card.getByText('No webhook.')).toBeVisible();
	await expect(card.getByRole('heading', { name: 'Deploys Bot' })).toBeVisible();

	// The room opens in another tab, where the bot's message must arrive live.
	const chat = await owner.context().newPage();
	await chat.goto(room);
	await expectConnected(chat);

	await card.getByRole('button', { name: 'Create webhook URL' }).click();
	const field = card.getByLabel('Webhook URL for Deploys');
	await expect(field).toBeFocused();
	const url = await field.inputValue();
	expect(url).toMatch(/^http:\/\/localhost:\d+\/api\/v1\/hooks\/[^/]+\/[^/]+$/);
	await expect(card.getByRole('status')).toContainText('it will not be shown again');
	await expect(card.getByText(`-d '{"text": "Hello from a webhook"}' ${url}`)).toBeVisible();
	await expect(card.getByRole('button', { name: 'Replace webhook URL' })).toBeVisible();
	await expectAccessibleInBothThemes(owner, 'the Bots section with a new webhook URL');

	// Anyone with the URL, no cookies, posts as the bot.
	const posted = await request.post(url, { data: { text: 'Build 42 is green' } });
	expect(posted.status()).toBe(201);
	const line = message(chat, 'Build 42 is green');
	await expect(line).toBeVisible();
	await expect(line.locator('.author')).toHaveText(/^\s*Deploys\s+Bot\s*$/);

	await roomAction(chat, 'Members');
	const members = chat.getByRole('complementary', { name: 'Members' });
	await expect(members.getByRole('listitem').filter({ hasText: 'Deploys' })).toContainText(
		'Deploys Bot'
	);
	await expectNoSeriousA11yViolations(chat, 'a room with a bot’s message and its member list');

	// Deleting the webhook asks first, then the URL stops working.
	await card.getByRole('button', { name: 'Delete webhook' }).click();
	const dialog = owner.getByRole('dialog', { name: 'Delete the webhook of Deploys?' });
	await dialog.getByRole('button', { name: 'Delete webhook' }).click();
	await expect(dialog).toBeHidden();
	await expect(card.getByText('No webhook.')).toBeVisible();
	await expect(card.getByLabel('Webhook URL for Deploys')).toHaveCount(0);
	const refused = await request.post(url, { data: { text: 'Build 42 is green' } });
	expect(refused.status()).toBe(404);

	// The details' member list marks it too, and its profile offers nothing a person's does.
	await owner.getByRole('tab', { name: 'Members' }).click();
	const row = owner.getByRole('list', { name: 'Members' }).getByRole('link', { name: /^Deploys/ });
	await expect(row).toHaveText(/^\s*Deploys\s+Bot\s*$/);
	await row.click();
	await expect(owner.getByRole('heading', { level: 1, name: 'Deploys Bot' })).toBeVisible();
	for (const action of ['Message', 'Add friend', 'Block']) {
		await expect(owner.getByRole('button', { name: action })).toHaveCount(0);
	}
});
