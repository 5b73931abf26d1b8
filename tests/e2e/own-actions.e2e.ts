import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { logIn } from './accounts-support';
import { befriend, timeline } from './people-support';
import { conversationRows } from './sidebar-support';
import { persona, signedInPage } from './support';
import { openDetails } from './ui-support';

/** The sidebar row of the conversation called `name`. */
function row(page: Page, name: string | RegExp) {
	return conversationRows(page).filter({ hasText: name });
}

test('nothing a person did themselves is unread for them, on any device', async ({ browser }) => {
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const carolWho = persona('carol');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);
	const carol = await signedInPage(browser, carolWho);
	await befriend(alice, 'Alice', bob, bobWho);
	await befriend(alice, 'Alice', carol, carolWho);

	await alice.goto('/groups/new');
	await alice.getByLabel('Name').fill('Book club');
	await alice.getByRole('checkbox', { name: /Bob/ }).check();
	await alice.getByRole('button', { name: 'Create group' }).click();
	await expect(alice.getByRole('heading', { name: 'Book club' })).toBeVisible();
	const roomUrl = alice.url();

	// Alice is also signed in on another device, looking at her conversations.
	const laptop = await (await browser.newContext()).newPage();
	await logIn(laptop, aliceWho.username, aliceWho.password);
	await expect(row(laptop, 'Book club')).toBeVisible();
	await bob.goto('/');

	// She does the group's admin on its Details page, never opening the conversation again.
	const roomPath = new URL(roomUrl).pathname;
	await openDetails(alice, roomPath, 'about');
	const about = alice.getByRole('tabpanel', { name: 'About' });
	await about.getByLabel('Name').fill('Books & tea');
	await about.getByLabel('Description').fill('Monthly, at Carol’s');
	await about.getByRole('button', { name: 'Save', exact: true }).click();
	await expect(about.getByLabel('Name')).toHaveValue('Books & tea');
	await alice.getByRole('tab', { name: 'Members' }).click();
	await alice.getByLabel("Friend's username").fill(carolWho.username);
	await alice.getByRole('button', { name: 'Add', exact: true }).click();
	await alice.getByRole('button', { name: 'Make Bob an admin' }).click();
	await expect(alice.getByRole('button', { name: 'Make Bob a member' })).toBeVisible();

	// Everyone else has news: Bob's row counts every line once his page reads what D1 holds.
	await expect(async () => {
		await bob.reload();
		await expect(row(bob, 'Books & tea')).toContainText(/\b6\s*unread messages/, {
			timeout: 1000
		});
	}).toPass();

	// Alice has none: not in the tab she acted in, not on her other device, live or reloaded.
	await alice.goto('/');
	await expect(row(alice, 'Books & tea')).toBeVisible();
	await expect(row(alice, 'Books & tea')).not.toContainText('unread');
	// The laptop's page was loaded before the rename, and may still show the old name.
	const either = /Book club|Books & tea/;
	await expect(row(laptop, either)).toBeVisible();
	await expect(row(laptop, either)).not.toContainText('unread');
	await laptop.reload();
	await expect(row(laptop, 'Books & tea')).not.toContainText('unread');
	// Nor does the conversation greet her with a "new messages" line for her own doing.
	await row(alice, 'Books & tea').click();
	await expect(timeline(alice).getByText('Alice made Bob an admin')).toBeVisible();
	await expect(alice.getByText('New messages')).toHaveCount(0);
});
