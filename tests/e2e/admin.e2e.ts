// The site admin: configured by username (playwright.config.ts starts the server with
// `--var SITE_ADMINS:e2e_site_admin`), they suspend someone whose room is open in another browser;
// that tab is signed out at once, and signing in again says why.
import type { Browser, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { logIn } from './accounts-support';
import { expectConnected } from './realtime-support';
import { persona, register } from './support';
import { createRoom, expectNoSeriousA11yViolations } from './ui-support';

/** As named in playwright.config.ts. */
const ADMIN = {
	username: 'e2e_site_admin',
	displayName: 'Site admin',
	email: 'e2e_site_admin@example.test',
	password: 'the site admin has a long password'
};

/** The admin, signed in: registered on a run's first use (each run's server starts empty). */
async function adminPage(browser: Browser): Promise<Page> {
	const page = await (await browser.newContext()).newPage();
	await logIn(page, ADMIN.username, ADMIN.password);
	// Whichever comes first: the home page, or the form's refusal (no such account yet).
	const signedIn = await Promise.race([
		page
			.waitForURL((url) => url.pathname === '/')
			.then(
				() => true,
				() => false
			),
		page
			.getByRole('alert')
			.waitFor()
			.then(
				() => false,
				() => false
			)
	]);
	if (!signedIn) await register(page, ADMIN);
	return page;
}

test('a suspended person’s open tab ends at once, and signing in again tells them why', async ({
	browser
}) => {
	const eve = persona('eve');
	const evePage = await (await browser.newContext()).newPage();
	await register(evePage, eve);

	// The admin area is not there for anyone else.
	const refused = await evePage.goto('/admin/people');
	expect(refused?.status()).toBe(404);

	await createRoom(evePage, 'Eve’s corner');
	await expectConnected(evePage);

	const admin = await adminPage(browser);
	await admin.getByRole('button', { name: /account menu/ }).click();
	await admin.getByRole('link', { name: 'Site admin' }).click();
	await admin
		.getByRole('navigation', { name: 'Site admin' })
		.getByRole('link', { name: 'People' })
		.click();
	const main = admin.getByRole('main');
	await main.getByLabel('Username, email or name starts with').fill(eve.username);
	await main.getByRole('button', { name: 'Search' }).click();
	await main.getByRole('list', { name: 'Accounts' }).getByRole('link', { name: 'Eve' }).click();
	await expect(admin.getByRole('heading', { level: 1, name: 'Eve' })).toBeVisible();
	await expectNoSeriousA11yViolations(admin, 'a person’s page in the admin area');

	await main.getByLabel('Reason (shown to them)').fill('Posting spam in every room');
	await main.getByRole('button', { name: 'Suspend', exact: true }).click();
	const dialog = admin.getByRole('dialog', { name: 'Suspend Eve?' });
	await dialog.getByRole('button', { name: 'Suspend', exact: true }).click();
	await expect(main.getByRole('status')).toContainText('Suspended');

	// Without anyone touching Eve's tab, it lands on the login page.
	await expect(evePage).toHaveURL(/\/login$/);
	await logIn(evePage, eve.username, eve.password);
	await expect(evePage.getByRole('alert')).toContainText('Reason: Posting spam in every room');

	// Unsuspended, she signs in again.
	await main.getByRole('button', { name: 'Unsuspend' }).click();
	await expect(main.getByRole('status')).toContainText('Unsuspended');
	await logIn(evePage, eve.username, eve.password);
	await expect(evePage).toHaveURL(/\/$/);
});
