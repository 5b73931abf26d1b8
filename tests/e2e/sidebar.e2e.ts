import { expect, test } from '@playwright/test';
import { openProfile, sendMessage, timeline } from './people-support';
import { conversationRows, friendsLink } from './sidebar-support';
import { persona, signedInPage } from './support';
import { createRoom } from './ui-support';

test('the sidebar follows conversations, friend requests and presence without a reload', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);

	// Bob is elsewhere when Alice's friend request arrives: the Friends link counts it.
	await bob.goto('/people');
	await expect(friendsLink(bob)).toHaveAccessibleName('Friends');
	await openProfile(alice, bobWho);
	await alice.getByRole('button', { name: 'Add friend' }).click();
	await expect(friendsLink(bob)).toHaveAccessibleName(/Friends, 1 friend request waiting/);
	await expect(friendsLink(bob)).toContainText('1');

	await friendsLink(bob).click();
	await bob
		.getByRole('list', { name: 'Incoming requests' })
		.getByRole('button', { name: 'Accept' })
		.click();
	await expect(friendsLink(bob)).toHaveAccessibleName('Friends');

	// Alice starts a direct conversation; her row shows Bob online while his tab is open.
	await openProfile(alice, bobWho);
	await alice.getByRole('button', { name: 'Message' }).click();
	await expect(alice.getByRole('status')).toHaveText('Connected');
	await sendMessage(alice, 'Are you around?');
	const bobRow = conversationRows(alice).filter({ hasText: 'Bob' });
	await expect(bobRow).toContainText(', online');

	// Bob talks in a room of his own, so Alice's conversation is not his most recent one.
	await createRoom(bob, 'Book club');
	await sendMessage(bob, 'Chapter three tonight');
	await expect(timeline(bob).getByText('Chapter three tonight')).toBeVisible();
	await bob.goto('/people');
	await expect(conversationRows(bob).first()).toContainText('Book club');
	const aliceRow = conversationRows(bob).filter({ hasText: 'Alice' });
	await expect(aliceRow).toContainText('Are you around?');
	await expect(aliceRow).toContainText(/\b1\s*unread message\b/);
	// Survives only as long as the page is not reloaded.
	await bob.evaluate(() => document.body.setAttribute('data-same-page', 'yes'));

	await sendMessage(alice, 'Lunch at noon?');
	await expect(conversationRows(bob).first()).toContainText('Alice');
	await expect(aliceRow).toContainText('Lunch at noon?');
	await expect(aliceRow).toContainText(/\b2\s*unread messages/);
	await expect(conversationRows(bob).nth(1)).toContainText('Book club');
	await expect(bob.locator('body')).toHaveAttribute('data-same-page', 'yes');

	// Bob reads the conversation and moves on: only what Alice says next counts as unread.
	await aliceRow.click();
	await expect(timeline(bob).getByText('Lunch at noon?')).toBeVisible();
	await expect(aliceRow).not.toContainText('unread');
	await friendsLink(bob).click();
	await expect(bob.getByRole('heading', { level: 1, name: 'Friends' })).toBeVisible();
	await sendMessage(alice, 'See you there');
	await expect(aliceRow).toContainText('See you there');
	await expect(aliceRow).toContainText(/\b1\s*unread message\b/);
	await expect(bob.locator('body')).toHaveAttribute('data-same-page', 'yes');

	// Bob closes his only tab: after the grace period for reloads, Alice sees him offline.
	await bob.context().close();
	await expect(bobRow).toContainText(', offline', { timeout: 20_000 });
});
