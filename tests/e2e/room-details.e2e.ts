// The room details page (issue 14): a header that keeps the name readable, its sections as tabs
// that follow the mouse, the keyboard and a form's answer, and one way back to the conversation.
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { befriend, openProfile } from './people-support';
import { persona } from './support';
import { createRoom, expectAccessibleInBothThemes, openDetails, personAt } from './ui-support';

const PHONE = { viewport: { width: 390, height: 844 } };

function selectedTab(page: Page) {
	return page.getByRole('tablist', { name: 'Details' }).getByRole('tab', { selected: true });
}

test('on a phone, the details are tabs under a title with room to breathe', async ({ browser }) => {
	const alice = await personAt(browser, persona('alice'), 'phone', PHONE);
	const room = await createRoom(alice, 'Book club');
	await openDetails(alice, room);

	// The name has the width of the page, not what a link beside it leaves over.
	const title = alice.getByRole('heading', { level: 1, name: 'Book club' });
	const width = (await title.boundingBox())!.width;
	expect(width).toBeGreaterThanOrEqual(0.6 * PHONE.viewport.width);
	await expect(alice.getByText(/Public room · 1 member$/)).toBeVisible();

	// One way back to the conversation, and it is not the page's own.
	const details = alice.getByRole('region', { name: 'Book club' });
	await expect(details.locator(`a[href="${room}"]`)).toHaveCount(0);
	expect(await alice.locator(`a[href="${room}"]:visible`).count()).toBeLessThanOrEqual(1);

	const tabs = alice.getByRole('tablist', { name: 'Details' }).getByRole('tab');
	await expect(tabs).toHaveText([
		'About',
		'Members',
		'Invites',
		'Bots',
		'Reports',
		'Encryption',
		'Media and files',
		'Notifications',
		'Theme'
	]);
	await expect(selectedTab(alice)).toHaveText('About');
	await expect(alice.getByRole('tabpanel', { name: 'About' })).toBeVisible();

	// The mouse (a tap) opens a section, and the address remembers it.
	await alice.getByRole('tab', { name: 'Members' }).click();
	await expect(selectedTab(alice)).toHaveText('Members');
	await expect(alice.getByRole('tabpanel', { name: 'Members' })).toBeVisible();
	await expect(alice.getByRole('tabpanel', { name: 'About' })).toBeHidden();
	await expect(alice).toHaveURL(/\?tab=members$/);

	// The arrow keys move between tabs, round the ends, with Home and End.
	await alice.getByRole('tab', { name: 'Members' }).focus();
	await alice.keyboard.press('ArrowRight');
	await expect(selectedTab(alice)).toHaveText('Invites');
	await expect(selectedTab(alice)).toBeFocused();
	await expect(alice.getByRole('tabpanel', { name: 'Invites' })).toBeVisible();
	await alice.keyboard.press('End');
	await expect(selectedTab(alice)).toHaveText('Theme');
	await expect(alice.getByRole('link', { name: 'Change the chat theme' })).toBeVisible();
	await alice.keyboard.press('ArrowRight');
	await expect(selectedTab(alice)).toHaveText('About');
	await alice.keyboard.press('ArrowLeft');
	await expect(selectedTab(alice)).toHaveText('Theme');
	await alice.keyboard.press('Home');
	await expect(selectedTab(alice)).toHaveText('About');
	await expect(selectedTab(alice)).toBeFocused();
	// One tab stop: Tab leaves the strip for the open section.
	await alice.keyboard.press('Tab');
	await expect(alice.getByRole('tabpanel', { name: 'About' })).toBeFocused();

	// A form's answer leaves the section open: a new invite link, then a reload.
	await alice.getByRole('tab', { name: 'Invites' }).click();
	await alice.getByRole('button', { name: 'Create invite link' }).click();
	await expect(alice.getByLabel(/New invite link/)).toBeVisible();
	await expect(selectedTab(alice)).toHaveText('Invites');
	await alice.reload();
	await expect(selectedTab(alice)).toHaveText('Invites');
	await expect(alice.getByRole('list', { name: 'Invite links' })).toContainText('Active');

	// Saving settings comes back to Notifications (the form's redirect names it).
	await alice.getByRole('tab', { name: 'Notifications' }).click();
	await alice.getByRole('combobox', { name: 'Notifications' }).selectOption('mute');
	// The tab already put `?tab=notifications` in the address: wait for the save itself.
	const saved = alice.waitForResponse(
		(r) => r.request().method() === 'POST' && r.url().includes('?/settings')
	);
	await alice.getByRole('button', { name: 'Save settings' }).click();
	await saved;
	await expect(alice).toHaveURL(/\?tab=notifications$/);
	await alice.reload();
	await expect(selectedTab(alice)).toHaveText('Notifications');
	await expect(alice.getByRole('combobox', { name: 'Notifications' })).toHaveValue('mute');
});

test('a member sees the sections that are theirs, and no invites', async ({ browser }) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	const bob = await personAt(browser, persona('bob'), 'desktop');
	const room = await createRoom(alice, 'Book club');
	await bob.goto(room);
	await bob.getByRole('button', { name: 'Join room' }).click();
	await expect(bob.getByRole('textbox', { name: 'Message' })).toBeVisible();

	// An address asking for a section they do not have opens About.
	await bob.goto(`${room}/details?tab=invites`);
	await expect(bob.getByRole('tablist', { name: 'Details' }).getByRole('tab')).toHaveText([
		'About',
		'Members',
		'Encryption',
		'Media and files',
		'Notifications',
		'Theme'
	]);
	await expect(selectedTab(bob)).toHaveText('About');
	await expect(bob.getByRole('button', { name: 'Leave Book club' })).toBeVisible();
	await bob.getByRole('tab', { name: 'Members' }).click();
	await expect(bob.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(2);
	await expect(bob.getByRole('button', { name: /^Remove / })).toHaveCount(0);
});

test('a direct message has About, Encryption, Media and files, Notifications and Theme, and About leads to the other person', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	const bobWho = persona('bob');
	const bob = await personAt(browser, bobWho, 'desktop');
	await befriend(alice, 'Alice', bob, bobWho);
	await openProfile(alice, bobWho);
	await alice.getByRole('button', { name: 'Message' }).click();
	await expect(alice).toHaveURL(/\/rooms\/[a-z0-9]+$/);
	await openDetails(alice, new URL(alice.url()).pathname);

	await expect(alice.getByRole('heading', { level: 1, name: 'Bob' })).toBeVisible();
	await expect(alice.getByText('Direct message', { exact: true })).toBeVisible();
	await expect(alice.getByRole('tablist', { name: 'Details' }).getByRole('tab')).toHaveText([
		'About',
		'Encryption',
		'Media and files',
		'Notifications',
		'Theme'
	]);
	await expect(alice.getByRole('link', { name: 'View Bob’s profile' })).toHaveAttribute(
		'href',
		`/u/${bobWho.username}`
	);
});

for (const size of ['desktop', 'phone'] as const) {
	test(`every section of the details has no serious accessibility problems on a ${size}, in light and dark`, async ({
		browser
	}) => {
		// Ten axe runs of several seconds each on a shared 2-core machine.
		test.setTimeout(Math.max(test.info().timeout, 240_000));
		const alice = await personAt(browser, persona('alice'), size);
		const room = await createRoom(alice, 'Weekend plans');
		await openDetails(alice, room, 'invites');
		await alice.getByRole('button', { name: 'Create invite link' }).click();
		await expect(alice.getByLabel(/New invite link/)).toBeVisible();
		for (const tab of ['About', 'Members', 'Invites', 'Notifications', 'Theme']) {
			await alice.getByRole('tab', { name: tab }).click();
			await expect(alice.getByRole('tabpanel', { name: tab })).toBeVisible();
			await expectAccessibleInBothThemes(alice, `details, ${tab}`);
		}
	});
}

test('without JavaScript, the tabs are links and a form’s answer opens its own section', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	const room = await createRoom(alice, 'Book club');
	const plain = await (
		await browser.newContext({
			storageState: await alice.context().storageState(),
			javaScriptEnabled: false
		})
	).newPage();
	await plain.goto(`${room}/details`);
	await expect(selectedTab(plain)).toHaveText('About');
	await plain.getByRole('tab', { name: 'Invites' }).click();
	await expect(plain).toHaveURL(/\?tab=invites$/);
	await expect(selectedTab(plain)).toHaveText('Invites');
	// The answer to this form is shown at the form's own address (`?/invite`), not a redirect.
	await plain.getByRole('button', { name: 'Create invite link' }).click();
	await expect(plain.getByLabel(/New invite link/)).toBeVisible();
	await expect(selectedTab(plain)).toHaveText('Invites');
});

test('on a phone, a long room name never widens the page', async ({ browser }) => {
	const alice = await personAt(browser, persona('alice'), 'phone', PHONE);
	const name = 'Saturday morning ridge trail, sunrise start, bring water and snacks';
	const room = await createRoom(alice, name);
	for (const section of ['about', 'members'] as const) {
		await openDetails(alice, room, section);
		const title = (await alice.getByRole('heading', { level: 1, name }).boundingBox())!;
		expect(title.x + title.width).toBeLessThanOrEqual(PHONE.viewport.width);
		// The way back names the room too, cut short rather than pushing the page sideways.
		await expect(alice.getByRole('link', { name: `Back to ${name}` })).toBeVisible();
		expect(await alice.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
			PHONE.viewport.width
		);
	}
});
