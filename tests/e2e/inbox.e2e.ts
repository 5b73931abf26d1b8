import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { persona, register, signedInPage } from './support';
import { openProfile } from './people-support';
import { at, expectNoSeriousA11yViolations } from './ui-support';

/** The sidebar's bell, whose name carries the unread count. */
function bell(page: Page) {
	return page.getByRole('link', { name: /^Notifications/ });
}

function inbox(page: Page) {
	return page.getByRole('list', { name: 'Notifications' });
}

test('a friend request rings the bell in every tab, and opening it reads it in all of them', async ({
	browser
}) => {
	const annWho = persona('ann');
	const bobWho = persona('bob');
	const ann = await signedInPage(browser, annWho);
	const bob = await signedInPage(browser, bobWho);
	// Bob's second tab, in the same browser: it hears everything through the user hub.
	const bobOther = await bob.context().newPage();
	await bobOther.goto('/', { waitUntil: 'networkidle' });
	await expect(bell(bob)).toHaveAccessibleName('Notifications');

	await openProfile(ann, bobWho);
	await ann.getByRole('button', { name: 'Add friend' }).click();

	// No reload: the count arrives live in both of Bob's tabs.
	await expect(bell(bob)).toHaveAccessibleName('Notifications, 1 unread');
	await expect(bell(bobOther)).toHaveAccessibleName('Notifications, 1 unread');

	await bell(bob).click();
	await expect(bob).toHaveURL(at('/notifications'));
	const item = inbox(bob).getByRole('button', { name: /Ann sent you a friend request/ });
	await expect(item).toHaveAccessibleName(/^Unread: Ann sent you a friend request/);

	await item.click();
	await expect(bob).toHaveURL(at('/friends'));
	await expect(bell(bob)).toHaveAccessibleName('Notifications');
	await expect(bell(bobOther)).toHaveAccessibleName('Notifications');
	await bob.goto('/notifications');
	await expect(
		inbox(bob).getByRole('button', { name: /^Ann sent you a friend request/ })
	).toBeVisible();
});

test('"Mark all read" reads everything, here and in the other tab', async ({ browser }) => {
	const annWho = persona('ann');
	const bobWho = persona('bob');
	const ann = await signedInPage(browser, annWho);
	const bob = await signedInPage(browser, bobWho);
	const annOther = await ann.context().newPage();
	await annOther.goto('/', { waitUntil: 'networkidle' });

	// Bob accepts Ann's request, then puts her in a group: two items for Ann.
	await openProfile(ann, bobWho);
	await ann.getByRole('button', { name: 'Add friend' }).click();
	await expect(ann.getByRole('button', { name: 'Cancel friend request' })).toBeVisible();
	await bob.goto('/friends');
	const incoming = bob.getByRole('list', { name: 'Incoming requests' });
	await incoming.getByRole('button', { name: 'Accept' }).click();
	// Friends before the group is made: its form offers only friends.
	await expect(incoming.getByRole('button', { name: 'Accept' })).toHaveCount(0);
	await bob.goto('/groups/new');
	await bob.getByLabel('Name').fill('Climbing crew');
	await bob.getByRole('checkbox', { name: /Ann/ }).check();
	await bob.getByRole('button', { name: 'Create group' }).click();
	await expect(bob.getByRole('heading', { name: 'Climbing crew' })).toBeVisible();

	await expect(bell(annOther)).toHaveAccessibleName('Notifications, 2 unread');
	await ann.goto('/notifications');
	await expect(inbox(ann).getByRole('button')).toHaveText([
		/Bob added you to Climbing crew/,
		/Bob accepted your friend request/
	]);
	await expect(inbox(ann).getByRole('button', { name: /^Unread: / })).toHaveCount(2);
	await expectNoSeriousA11yViolations(ann, 'the inbox with unread items');

	await ann.getByRole('button', { name: 'Mark all read' }).click();
	await expect(inbox(ann).getByRole('button', { name: /^Unread: / })).toHaveCount(0);
	await expect(ann.getByRole('button', { name: 'Mark all read' })).toBeHidden();
	await expect(bell(ann)).toHaveAccessibleName('Notifications');
	await expect(bell(annOther)).toHaveAccessibleName('Notifications');

	// The group item opens the group.
	await inbox(ann)
		.getByRole('button', { name: /Bob added you to Climbing crew/ })
		.click();
	await expect(ann.getByRole('heading', { name: 'Climbing crew' })).toBeVisible();
});

test('an empty inbox says so', async ({ browser }) => {
	const cat = await signedInPage(browser, persona('cat'));
	await cat.goto('/notifications');
	await expect(cat.getByRole('heading', { name: 'Nothing new' })).toBeVisible();
	await expect(cat.getByRole('button', { name: 'Mark all read' })).toBeHidden();
});

test('without JavaScript, opening an item still reads it on the way', async ({ browser }) => {
	const annWho = persona('ann');
	const bob = await signedInPage(browser, persona('bob'));
	const context = await browser.newContext({ javaScriptEnabled: false });
	const ann = await context.newPage();
	await register(ann, annWho);

	await openProfile(bob, annWho);
	await bob.getByRole('button', { name: 'Add friend' }).click();
	// Sent before Ann looks: without JavaScript, her page shows what was there when it loaded.
	await expect(bob.getByRole('button', { name: 'Cancel friend request' })).toBeVisible();
	await ann.goto('/notifications');
	await expect(bell(ann)).toHaveAccessibleName('Notifications, 1 unread');
	await inbox(ann)
		.getByRole('button', { name: /^Unread: Bob sent you a friend request/ })
		.click();
	await expect(ann).toHaveURL(at('/friends'));
	await expect(bell(ann)).toHaveAccessibleName('Notifications');
});
