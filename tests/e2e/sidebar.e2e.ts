import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { openProfile, sendMessage, timeline } from './people-support';
import { expectConnected, message, peopleInRoom, say } from './realtime-support';
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
	await expectConnected(alice);
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

test("the open room's own row follows what is said in it, as plain text and read", async ({
	browser
}) => {
	test.setTimeout(90_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Reading room');
	const reading = alice.page.url();

	// Each has a conversation with newer activity than the reading room, so it is not on top.
	await createRoom(alice.page, 'Errands');
	await say(alice.page, 'Milk and bread');
	await createRoom(bob.page, 'Garden');
	await say(bob.page, 'Tomatoes are in');
	for (const { page } of [alice, bob]) {
		await expect(message(page, /Milk and bread|Tomatoes are in/)).toBeVisible();
		await page.goto(reading);
		await expectConnected(page);
		await expect(conversationRows(page).first()).not.toContainText('Reading room');
	}
	const row = (page: Page) => conversationRows(page).filter({ hasText: 'Reading room' });

	await say(alice.page, '*The Left Hand of Darkness* is **next** :sunny:');
	for (const { page } of [alice, bob]) {
		await expect(conversationRows(page).first()).toContainText('Reading room');
		await expect(row(page)).toContainText('The Left Hand of Darkness is next ☀️');
		await expect(row(page)).not.toContainText('*');
		await expect(row(page)).not.toContainText('unread');
	}

	await say(bob.page, 'Sounds good, chapter one by Friday');
	for (const { page } of [alice, bob]) {
		await expect(row(page)).toContainText('Sounds good, chapter one by Friday');
		await expect(conversationRows(page).first()).toContainText('Reading room');
		await expect(row(page)).not.toContainText('unread');
	}

	// Bob corrects the newest message: both rows show the correction.
	const box = bob.page.getByRole('textbox', { name: 'Message' });
	await box.press('ArrowUp');
	await box.fill('Sounds good, chapter two by Friday');
	await box.press('Enter');
	for (const { page } of [alice, bob]) {
		await expect(row(page)).toContainText('Sounds good, chapter two by Friday');
		await expect(row(page)).not.toContainText('unread');
	}

	// Leaving the room keeps its row as it was: read, latest first.
	await conversationRows(bob.page).filter({ hasText: 'Garden' }).click();
	await expect(bob.page.getByRole('heading', { level: 1, name: 'Garden' })).toBeVisible();
	await expect(conversationRows(bob.page).first()).toContainText('Reading room');
	await expect(row(bob.page)).toContainText('Sounds good, chapter two by Friday');
	await expect(row(bob.page)).not.toContainText('unread');
});

test("a room open in one tab keeps its row current in the person's other tabs", async ({
	browser
}) => {
	test.setTimeout(90_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Two tabs');
	const roomUrl = alice.page.url();
	// Alice's second tab shows another room; the first keeps this one open.
	const other = await alice.page.context().newPage();
	await other.goto('/');
	await createRoom(other, 'Elsewhere');
	await expectConnected(other);
	const row = conversationRows(other).filter({ hasText: 'Two tabs' });
	await expect(row).toBeVisible();

	await say(bob.page, 'Seen in the first tab');
	await expect(message(alice.page, 'Seen in the first tab')).toBeVisible();
	// The room tells Alice's hub nothing (her first tab has it open); her other tab still follows.
	await expect(row).toContainText('Seen in the first tab');
	await expect(row).not.toContainText('unread');
	await expect(conversationRows(other).first()).toContainText('Two tabs');
	expect(alice.page.url()).toBe(roomUrl);
});
