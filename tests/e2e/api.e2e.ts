// The public API from the outside: a person makes a token in settings, a script (Playwright's own
// HTTP client, holding the token and no cookie) reads and sends with it, and the room open in the
// person's browser shows what the script sent at once; revoking the token stops it. The token
// page and the API reference are checked for accessibility, and the reference for phones.
import { expect, test } from './fixtures';
import { persona } from './support';
import { message } from './realtime-support';
import {
	SIZES,
	createRoom,
	expectAccessibleInBothThemes,
	expectNoSeriousA11yViolations,
	personAt
} from './ui-support';

test('a token made in settings lets a script read and send into its room, until it is revoked', async ({
	browser,
	playwright,
	baseURL
}) => {
	const page = await personAt(browser, persona('ana'), 'desktop', {
		permissions: ['clipboard-read', 'clipboard-write']
	});
	const roomPath = await createRoom(page, 'Bot corner');
	const roomId = roomPath.split('/').pop()!;

	// The room stays open in this tab; settings open in another of the same browser.
	const settings = await page.context().newPage();
	await settings.goto('/settings/tokens', { waitUntil: 'networkidle' });
	await expect(settings.getByText('No tokens yet.')).toBeVisible();
	await settings.getByLabel('Name', { exact: true }).fill('Weather bot');
	await settings.getByRole('radio', { name: 'Read and write' }).check();
	await settings.getByRole('radio', { name: 'In 7 days' }).check();
	await settings.getByRole('checkbox', { name: 'Bot corner' }).check();
	await settings.getByRole('button', { name: 'Create token' }).click();
	await expect(
		settings.getByText('Token “Weather bot” created. Copy it now: it will not be shown again.')
	).toBeVisible();

	const field = settings.getByLabel('Your new token');
	await expect(field).toBeFocused();
	await settings.getByRole('button', { name: 'Copy' }).click();
	await expect(settings.getByText('Copied.')).toBeVisible();
	const token = await settings.evaluate(() => navigator.clipboard.readText());
	expect(token).toMatch(/^parley_pat_/);
	expect(token).toBe(await field.inputValue());

	const tokens = settings.getByRole('list', { name: 'API tokens' });
	await expect(tokens.getByRole('listitem')).toHaveCount(1);
	await expect(tokens).toContainText('Read and write');
	await expect(tokens).toContainText('Bot corner');
	await expect(tokens).toContainText('Never used');
	await expectAccessibleInBothThemes(settings, 'settings: API tokens, one just made');

	const script = await playwright.request.newContext({
		baseURL,
		extraHTTPHeaders: { Authorization: `Bearer ${token}` }
	});
	try {
		const me = await script.get('/api/v1/me');
		expect(me.status()).toBe(200);
		expect(await me.json()).toMatchObject({
			displayName: 'Ana',
			via: 'token',
			token: { scope: 'write', rooms: [roomId] }
		});

		const sent = await script.post(`/api/v1/rooms/${roomId}/messages`, {
			data: { clientId: 'weather-1', body: 'Sunny all afternoon.' }
		});
		expect(sent.status()).toBe(201);
		expect(await sent.json()).toMatchObject({
			message: { body: 'Sunny all afternoon.', clientId: 'weather-1' }
		});
		// The room open in the other tab shows it without a reload.
		await expect(message(page, 'Sunny all afternoon.')).toBeVisible();

		// Revoking asks first (the page's script runs), then the token is gone from the list.
		await settings.reload({ waitUntil: 'networkidle' });
		await expect(settings.getByLabel('Your new token')).toHaveCount(0);
		await expect(settings.getByRole('list', { name: 'API tokens' })).not.toContainText(
			'Never used'
		);
		await settings.getByRole('button', { name: 'Revoke Weather bot' }).click();
		const dialog = settings.getByRole('dialog', { name: 'Revoke “Weather bot”?' });
		await expect(dialog).toBeVisible();
		await dialog.getByRole('button', { name: 'Revoke token' }).click();
		await expect(dialog).toBeHidden();
		await expect(settings.getByText(/^Token revoked/)).toBeVisible();
		await expect(settings.getByText('No tokens yet.')).toBeVisible();

		const after = await script.get('/api/v1/me');
		expect(after.status()).toBe(401);
		expect(await after.json()).toMatchObject({ error: { code: 'invalid_token' } });
		const refused = await script.post(`/api/v1/rooms/${roomId}/messages`, {
			data: { clientId: 'weather-2', body: 'Still here?' }
		});
		expect(refused.status()).toBe(401);
	} finally {
		await script.dispose();
	}
});

test('the API reference is public, lists the routes by group, and fits a phone', async ({
	browser
}) => {
	const context = await browser.newContext(SIZES.phone);
	const page = await context.newPage();
	await page.goto('/docs/api');
	await expect(page.getByRole('heading', { name: 'Parley API reference', level: 1 })).toBeVisible();
	await expect(page.getByRole('link', { name: /OpenAPI 3\.1 document/ })).toHaveAttribute(
		'href',
		'/api/v1/openapi.json'
	);
	const contents = page.getByRole('navigation', { name: 'Contents' });
	await contents.getByRole('link', { name: 'Messages' }).click();
	await expect(page).toHaveURL(/#tag-Messages$/);
	const send = page.getByRole('article', { name: 'Send a message' });
	await expect(send).toContainText('/api/v1/rooms/{id}/messages');
	await expect(send).toContainText('Token scope: read and write');
	await send.getByText('Request body (application/json)').click();
	await expect(send.locator('details', { hasText: 'Request body' }).locator('pre')).toContainText(
		'"clientId"'
	);

	// Nothing is wider than the screen: long code scrolls inside its own block.
	const overflow = await page.evaluate(
		() => document.documentElement.scrollWidth - document.documentElement.clientWidth
	);
	expect(overflow).toBeLessThanOrEqual(0);
	// One theme only: the reference is long, and axe takes seconds over it. Its colours are the
	// app's own tokens, which the settings page above is checked with in both themes.
	await page.emulateMedia({ colorScheme: 'dark' });
	await expectNoSeriousA11yViolations(page, 'API reference on a phone (dark)');
});

test('without JavaScript, tokens are made, shown once and revoked by plain form posts', async ({
	browser
}) => {
	const page = await personAt(browser, persona('bo'), 'desktop', { javaScriptEnabled: false });
	await page.goto('/settings/tokens');
	await page.getByLabel('Name', { exact: true }).fill('Cron job');
	await page.getByRole('button', { name: 'Create token' }).click();
	await expect(page.getByText('Token “Cron job” created.')).toBeVisible();
	await expect(page.getByLabel('Your new token')).toHaveValue(/^parley_pat_/);
	// Copying needs the script: the field is there to select instead.
	await expect(page.getByRole('button', { name: 'Copy' })).toHaveCount(0);
	const tokens = page.getByRole('list', { name: 'API tokens' });
	await expect(tokens).toContainText('Read only');
	await expect(tokens).toContainText('All rooms');

	// A refusal keeps what was typed.
	await page.getByLabel('Name', { exact: true }).fill('   ');
	await page.getByRole('radio', { name: 'Read and write' }).check();
	await page.getByRole('button', { name: 'Create token' }).click();
	await expect(page.getByRole('alert').filter({ hasText: 'Name the token' })).toBeVisible();
	await expect(page.getByRole('radio', { name: 'Read and write' })).toBeChecked();
	await expect(page.getByLabel('Your new token')).toHaveCount(0);

	// Revoke posts at once: there is no script to ask first.
	await page.getByRole('button', { name: 'Revoke Cron job' }).click();
	await expect(page.getByText(/^Token revoked/)).toBeVisible();
	await expect(page.getByText('No tokens yet.')).toBeVisible();
});
