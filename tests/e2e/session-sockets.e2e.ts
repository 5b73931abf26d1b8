import { expect, test } from './fixtures';
import { logIn } from './accounts-support';
import { persona, signedInPage } from './support';
import { createRoom } from './ui-support';
import { expectConnected } from './realtime-support';

test('a session revoked from another device leaves its open room at once', async ({ browser }) => {
	const bob = persona('bob');
	const laptop = await signedInPage(browser, bob);
	const phone = await (await browser.newContext()).newPage();
	await logIn(phone, bob.username, bob.password);
	await expect(phone).toHaveURL(/\/$/);

	// The phone has a room open and connected.
	const room = await createRoom(laptop, 'Notes to self');
	await phone.goto(room);
	await expectConnected(phone);

	await laptop.goto('/settings/sessions');
	await laptop
		.getByRole('list', { name: 'Signed-in sessions' })
		.getByRole('listitem')
		.filter({ hasNotText: 'This device' })
		.getByRole('button', { name: /^Revoke/ })
		.click();
	await expect(laptop.getByRole('status')).toHaveText('Session signed out.');

	// Without anyone touching the phone, its tab lands on the login page.
	await expect(phone).toHaveURL(/\/login$/);
	await expect(phone.getByRole('button', { name: 'Log in' })).toBeVisible();
});
