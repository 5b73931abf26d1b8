// The pages of end-to-end encrypted conversations (docs/e2ee.md), in a real browser with its own
// IndexedDB: a person sets this browser up as their first device (approved at once), makes an
// encrypted group, and sees it marked in the sidebar, the room's header and its details; a second
// browser of theirs waits until the first approves it by its code, and is removed from there; two
// friends turn on encryption in their conversation, compare safety numbers, and see a change.
import { expect, test } from './fixtures';
import { persona } from './support';
import { logIn } from './accounts-support';
import { befriend, openProfile } from './people-support';
import { expectNoSeriousA11yViolations, personAt } from './ui-support';
import { conversationRows } from './sidebar-support';

test('a first device is set up on Settings → Devices, and an encrypted group is marked everywhere', async ({
	browser
}) => {
	// Four axe runs, and the MLS code loading in three pages, on a shared 2-core machine.
	test.setTimeout(Math.max(test.info().timeout, 120_000));
	const alice = await personAt(browser, persona('alice'), 'desktop');

	await alice.goto('/settings/devices');
	await expect(alice.getByRole('heading', { name: 'Devices', level: 1 })).toBeVisible();
	const warning = alice.getByText('If you lose every device, you lose that history');
	await expect(warning).toBeVisible();
	await alice.getByRole('button', { name: 'Set up this browser' }).click();
	await expect(
		alice.getByText('is approved: it reads your encrypted conversations.')
	).toBeVisible();
	const listed = alice.getByRole('region', { name: 'Your devices' }).getByRole('listitem');
	await expect(listed).toHaveCount(1);
	await expect(listed).toContainText('This browser');
	await expect(listed).toContainText('Approved');
	await expect(warning).toBeHidden();
	await expectNoSeriousA11yViolations(alice, 'Settings → Devices');
	await alice.emulateMedia({ colorScheme: 'dark' });
	await expectNoSeriousA11yViolations(alice, 'Settings → Devices, dark');
	await alice.emulateMedia({ colorScheme: 'light' });

	// Still this browser's device after a reload: it is kept, and checked with the server.
	await alice.reload();
	await expect(
		alice.getByText('is approved: it reads your encrypted conversations.')
	).toBeVisible();

	await alice.goto('/groups/new');
	await alice.getByLabel('Name').fill('Secret plans');
	await alice.getByRole('checkbox', { name: 'End-to-end encrypted' }).check();
	await alice.getByRole('button', { name: 'Create group' }).click();
	await expect(alice.getByRole('heading', { name: 'Secret plans', level: 1 })).toBeVisible();
	await expect(alice.locator('section[data-connection] > header')).toContainText(
		'🔒 End-to-end encrypted'
	);
	const row = conversationRows(alice).filter({ hasText: 'Secret plans' });
	await expect(row).toContainText(', end-to-end encrypted');
	await expect(row.getByTitle('End-to-end encrypted')).toBeVisible();
	const roomPath = new URL(alice.url()).pathname;

	await alice.goto(`${roomPath}/details?tab=encryption`);
	await expect(alice.getByRole('tab', { name: 'Encryption', selected: true })).toBeVisible();
	await expect(alice.getByText('This conversation is end-to-end encrypted.')).toBeVisible();
	const members = alice.getByRole('tabpanel').getByRole('listitem').filter({ hasText: 'You' });
	await expect(members.first()).toContainText('This browser');
	await expectNoSeriousA11yViolations(alice, 'the Encryption section of an encrypted group');
	await alice.emulateMedia({ colorScheme: 'dark' });
	await expectNoSeriousA11yViolations(alice, 'the Encryption section, dark');
});

test('a second browser waits with its code until the first approves it, and can be removed', async ({
	browser
}) => {
	test.setTimeout(Math.max(test.info().timeout, 120_000));
	const who = persona('bea');
	const laptop = await personAt(browser, who, 'desktop');
	await laptop.goto('/settings/devices');
	await laptop.getByRole('button', { name: 'Set up this browser' }).click();
	await expect(
		laptop.getByText('is approved: it reads your encrypted conversations.')
	).toBeVisible();

	const phone = await (await browser.newContext()).newPage();
	await logIn(phone, who.username, who.password);
	await expect(phone).toHaveURL(/\/$/);
	await phone.goto('/settings/devices');
	await phone.getByRole('button', { name: 'Set up this browser' }).click();
	await expect(phone.getByText('waits for approval.')).toBeVisible();
	const code = (await phone.getByText(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/).textContent())!.trim();

	await laptop.reload();
	const pending = laptop
		.getByRole('region', { name: 'Your devices' })
		.getByRole('listitem')
		.filter({ hasText: 'Waiting for approval' });
	const field = pending.getByLabel('Enter the code shown on the new device');
	// A code that is not the new device's is refused here, before the server hears of it.
	const wrong = code.startsWith('A') ? `B${code.slice(1)}` : `A${code.slice(1)}`;
	await field.fill(wrong);
	await pending.getByRole('button', { name: 'Approve' }).click();
	await expect(pending.getByRole('alert')).toHaveText(
		'That is not the code the new device shows. Check it and type it again.'
	);
	await expect(field).toHaveAttribute('aria-invalid', 'true');
	// Typed as people type it: lower case, no hyphen.
	await field.fill(code.replace('-', '').toLowerCase());
	await pending.getByRole('button', { name: 'Approve' }).click();
	await expect(laptop.getByText(/ is approved\.$/)).toBeVisible();
	await expect(
		laptop.getByRole('region', { name: 'Your devices' }).getByText('Approved')
	).toHaveCount(2);

	// The waiting browser notices by itself.
	await expect(
		phone.getByText('is approved: it reads your encrypted conversations.')
	).toBeVisible();

	// The laptop removes the phone, after saying what that does.
	const phoneRow = laptop
		.getByRole('region', { name: 'Your devices' })
		.getByRole('listitem')
		.filter({ hasNotText: 'This browser' });
	await phoneRow.getByRole('button', { name: /^Remove/ }).click();
	const dialog = laptop.getByRole('dialog');
	await expect(dialog).toContainText('other members’ devices take it out of every group');
	await dialog.getByRole('button', { name: 'Remove device' }).click();
	await expect(phoneRow).toContainText('Removed');

	// The phone learns it was removed, forgets its keys, and may be set up again.
	await phone.reload();
	await expect(phone.getByRole('button', { name: 'Set up this browser' })).toBeVisible();
});

test('two friends turn on encryption in their conversation and compare the same safety number', async ({
	browser
}) => {
	test.setTimeout(Math.max(test.info().timeout, 150_000));
	const carlWho = persona('carl');
	const danaWho = persona('dana');
	const carl = await personAt(browser, carlWho, 'desktop');
	const dana = await personAt(browser, danaWho, 'desktop');
	await befriend(carl, carlWho.displayName, dana, danaWho);
	for (const page of [carl, dana]) {
		await page.goto('/settings/devices');
		await page.getByRole('button', { name: 'Set up this browser' }).click();
		await expect(
			page.getByText('is approved: it reads your encrypted conversations.')
		).toBeVisible();
	}

	await openProfile(carl, danaWho);
	await carl.getByRole('button', { name: 'Message' }).click();
	await expect(carl).toHaveURL(/\/rooms\/[^/?#]+$/);
	const roomPath = new URL(carl.url()).pathname;
	await carl.goto(`${roomPath}/details?tab=encryption`);
	await expect(carl.getByText('This conversation is not end-to-end encrypted.')).toBeVisible();
	await carl.getByRole('button', { name: 'Turn on end-to-end encryption' }).click();
	const dialog = carl.getByRole('dialog', { name: 'Turn on end-to-end encryption?' });
	await expect(dialog).toContainText('Earlier messages stay as they were.');
	await expect(dialog).toContainText('cannot be turned off');
	await expectNoSeriousA11yViolations(carl, 'the confirmation to turn on encryption');
	await dialog.getByRole('button', { name: 'Turn on encryption' }).click();
	await expect(carl.getByText('This conversation is end-to-end encrypted.')).toBeVisible();

	/** The safety number a person's page shows for the other, once its disclosure is opened. */
	async function safetyNumberOn(page: typeof carl, other: string): Promise<string> {
		await page.getByText(`Verify ${other}`).click();
		const digits = page.getByText(/^(\d{5} ){11}\d{5}$/);
		await expect(digits).toBeVisible();
		return (await digits.textContent())!;
	}
	const carlSees = await safetyNumberOn(carl, danaWho.displayName);
	await dana.goto(`${roomPath}/details?tab=encryption`);
	expect(await safetyNumberOn(dana, carlWho.displayName)).toBe(carlSees);
	await expectNoSeriousA11yViolations(carl, 'a safety number, opened');

	await carl.getByRole('button', { name: 'Mark as verified' }).click();
	await expect(carl.getByText(/^✓ Verified$/)).toBeVisible();
	await carl.reload();
	await expect(carl.getByText(/^✓ Verified$/)).toBeVisible();

	// Dana replaces her device: Carl's mark no longer holds, and he is told.
	await dana.goto('/settings/devices');
	await dana.getByRole('button', { name: /^Remove/ }).click();
	await dana.getByRole('dialog').getByRole('button', { name: 'Remove device' }).click();
	await dana.getByRole('button', { name: 'Set up this browser' }).click();
	await expect(dana.getByText('is approved: it reads your encrypted conversations.')).toBeVisible();
	await carl.reload();
	await expect(
		carl.getByText(`${danaWho.displayName}’s security keys changed. Compare safety numbers again.`)
	).toBeVisible();
	await expect(carl.getByText(/^✓ Verified$/)).toBeHidden();
	expect(await safetyNumberOn(carl, danaWho.displayName)).not.toBe(carlSees);
});
