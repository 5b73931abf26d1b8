import { expect, test } from '@playwright/test';
import { linkFromOutbox, logIn } from './accounts-support';
import { persona, register, signedInPage } from './support';

test('a person registers, confirms their email from the outbox, forgets their password and resets it', async ({
	page
}) => {
	const alice = persona('alice');
	await register(page, alice);

	const verifyLink = await linkFromOutbox(
		page,
		alice.email,
		'Confirm your email address for Parley'
	);
	await page.goto(verifyLink);
	await page.getByRole('button', { name: 'Confirm email address' }).click();
	await expect(page.getByRole('status')).toHaveText(`Thanks! ${alice.email} is confirmed.`);
	// The secret left the address bar once it was in the form.
	expect(page.url()).not.toContain('token=');
	await page.goto('/settings/account');
	await expect(page.getByText('Confirmed', { exact: true })).toBeVisible();

	await page.getByRole('button', { name: /account menu/ }).click();
	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL(/\/login$/);

	await page.getByRole('link', { name: 'Forgot your password?' }).click();
	await page.getByLabel('Email').fill(alice.email);
	await page.getByRole('button', { name: 'Send reset link' }).click();
	await expect(page.getByRole('status')).toContainText(`If an account uses ${alice.email}`);

	const resetLink = await linkFromOutbox(page, alice.email, 'Reset your Parley password');
	await page.goto(resetLink);
	const newPassword = 'alice remembers this new one';
	await page.getByLabel('New password').fill(newPassword);
	await page.getByRole('button', { name: 'Set new password' }).click();
	await expect(page).toHaveURL(/\/login\?notice=password-reset$/);
	await expect(page.getByRole('status')).toHaveText(
		'Your password has been changed. Log in with the new one.'
	);

	await logIn(page, alice.username, alice.password);
	await expect(page.getByRole('alert')).toHaveText(
		'That email or username and password do not match.'
	);
	await logIn(page, alice.email, newPassword);
	await expect(page).toHaveURL(/\/$/);
	await expect(page.getByRole('button', { name: /account menu/ })).toContainText('Alice');

	// The reset link was spent.
	await page.goto(resetLink);
	await page.getByLabel('New password').fill('someone else tries it again');
	await page.getByRole('button', { name: 'Set new password' }).click();
	await expect(page.getByRole('alert')).toContainText('This link has expired or was already used.');
});

test('the sessions page revokes another browser, which is signed out on its next request', async ({
	browser
}) => {
	const bob = persona('bob');
	const laptop = await signedInPage(browser, bob);
	const phone = await (await browser.newContext()).newPage();
	await logIn(phone, bob.username, bob.password);
	await expect(phone).toHaveURL(/\/$/);

	await laptop.goto('/settings/sessions');
	const sessions = laptop.getByRole('list', { name: 'Signed-in sessions' }).getByRole('listitem');
	await expect(sessions).toHaveCount(2);
	const current = sessions.filter({ hasText: 'This device' });
	await expect(current).toHaveCount(1);
	await expect(current).toContainText(/Chrome \d+ on \w+/);
	await expect(current).toContainText('Last active');

	const other = sessions.filter({ hasNotText: 'This device' });
	await other.getByRole('button', { name: /^Revoke/ }).click();
	await expect(laptop.getByRole('status')).toHaveText('Session signed out.');
	await expect(sessions).toHaveCount(1);

	await phone.reload();
	await expect(
		phone.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Log in' })
	).toBeVisible();
	await phone.goto('/settings/sessions');
	await expect(phone).toHaveURL(/\/login\?next=%2Fsettings%2Fsessions$/);

	// The laptop itself is still signed in.
	await laptop.reload();
	await expect(sessions).toHaveCount(1);
});

test('the registration form shows each error next to its field and keeps what was typed', async ({
	page
}) => {
	const carol = persona('carol');
	await page.goto('/register');
	await page.getByLabel('Email').fill('carol-at-example');
	await page.getByLabel('Username').fill(carol.username);
	await page.getByLabel('Display name').fill('Carol');
	await page.getByLabel('Password').fill('password123');
	await page.getByRole('button', { name: 'Create account' }).click();

	await expect(page.getByLabel('Email')).toHaveAccessibleDescription(
		'Enter a valid email address.'
	);
	await expect(page.getByLabel('Email')).toHaveValue('carol-at-example');
	await expect(page.getByLabel('Username')).toHaveValue(carol.username);

	await page.getByLabel('Email').fill(carol.email);
	await page.getByLabel('Password').fill('password123');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.getByLabel('Password')).toHaveAccessibleDescription(
		/That password is too common\./
	);
	await page.getByLabel('Password').fill(carol.password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page).toHaveURL(/\/$/);
});
