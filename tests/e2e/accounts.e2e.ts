import { expect, test } from './fixtures';
import { linkFromOutbox, logIn } from './accounts-support';
import {
	persona,
	register,
	registerThroughForms,
	signedInPage,
	submitRegistration
} from './support';
import { SIZES, expectAccessibleInBothThemes, personAt } from './ui-support';

test('a person registers through the link in their mail, forgets their password and resets it', async ({
	page
}) => {
	const alice = persona('alice');
	await registerThroughForms(page, alice);
	// Opening the link proved the address: there is nothing left to confirm.
	await expect(page.getByRole('button', { name: /account menu/ })).toContainText('Alice');
	await expect(page.getByText('Please confirm your email address')).toHaveCount(0);
	// The secret left the address bar once it was in the form.
	expect(page.url()).not.toContain('token=');
	await page.goto('/settings/account');
	await expect(page.getByText('Confirmed', { exact: true })).toBeVisible();
	await page.goto('/');
	await expect(page.getByRole('heading', { level: 1 })).toBeVisible();

	await page.getByRole('button', { name: /account menu/ }).click();
	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL(/\/login$/);

	await page.getByRole('link', { name: 'Forgot your password?' }).click();
	await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
	await page.getByLabel('Email', { exact: true }).fill(alice.email);
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
	await expect(page.getByRole('status')).toHaveText(
		`Check your inbox: we sent a link to ${carol.email} to finish creating your account.`
	);
});

test('registering a taken address answers as a free one would, and tells the address’s owner', async ({
	page,
	browser
}) => {
	const alice = persona('alice');
	await register(page, alice);
	const mallory = await (await browser.newContext()).newPage();
	await submitRegistration(mallory, { ...persona('mallory'), email: alice.email });
	await expect(
		mallory.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Log in' })
	).toBeVisible();

	const note = page
		.getByRole('article')
		.filter({
			has: page.getByRole('heading', {
				name: 'Someone tried to create a Parley account with your address'
			})
		})
		.filter({ hasText: alice.email });
	// The note is sent after the answer (so its timing reveals nothing): wait for it to land.
	await expect(async () => {
		await page.goto('/dev/mail');
		await expect(note).toContainText('If it was you, log in or', { timeout: 1000 });
	}).toPass({ timeout: 15_000 });
	await expect(note.getByRole('link')).toHaveAttribute('href', /\/forgot-password$/);
});

for (const size of ['desktop', 'phone'] as const) {
	test(`the account screens have no serious accessibility problems on a ${size}, in light and dark`, async ({
		browser
	}) => {
		// Nine screens, each analysed by axe in both themes: more than the default minute.
		test.setTimeout(180_000);
		const visitor = await (await browser.newContext(SIZES[size])).newPage();
		await visitor.goto('/forgot-password');
		await expect(visitor.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
		await expectAccessibleInBothThemes(visitor, 'forgot password');

		const erin = persona('erin');
		await submitRegistration(visitor, erin);
		await expectAccessibleInBothThemes(visitor, 'registration sent');
		await visitor.goto(
			await linkFromOutbox(visitor, erin.email, 'Finish creating your Parley account')
		);
		await expect(visitor.getByRole('button', { name: 'Create my account' })).toBeVisible();
		await expectAccessibleInBothThemes(visitor, 'finish registration');

		const dana = persona('dana');
		const page = await personAt(browser, dana, size);
		const screens = [
			['/verify-email', 'Confirm your email'],
			['/settings/profile', 'Profile'],
			['/settings/account', 'Account'],
			['/settings/sessions', 'Sessions'],
			['/dev/mail', 'Development outbox']
		] as const;
		for (const [path, heading] of screens) {
			await page.goto(path);
			await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
			await expectAccessibleInBothThemes(page, path);
		}
		const resetLink = await (async () => {
			await visitor.goto('/forgot-password');
			await visitor.getByLabel('Email').fill(dana.email);
			await visitor.getByRole('button', { name: 'Send reset link' }).click();
			return linkFromOutbox(visitor, dana.email, 'Reset your Parley password');
		})();
		await visitor.goto(resetLink);
		await expect(visitor.getByLabel('New password')).toBeVisible();
		await expectAccessibleInBothThemes(visitor, 'reset password');
	});
}
