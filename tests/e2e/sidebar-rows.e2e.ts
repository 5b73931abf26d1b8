// The sidebar's rows after a deletion and after a quick page load (issue 14).
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { act, expectConnected, message, peopleInRoom, say } from './realtime-support';
import { conversationRows } from './sidebar-support';

const rowOf = (page: Page, name: string) => conversationRows(page).filter({ hasText: name });

test('deleting the newest message leaves the one before it on the row, live and after a reload', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Deletions');
	await say(alice.page, 'First words');
	await say(alice.page, 'Second words');
	for (const { page } of [alice, bob]) {
		await expect(message(page, 'Second words')).toBeVisible();
		await expect(rowOf(page, 'Deletions')).toContainText('Second words');
	}

	alice.page.once('dialog', (dialog) => dialog.accept());
	await act(alice.page, 'Second words', 'Delete');
	// Live: both have the room open, and their rows show the newest message still there.
	for (const { page } of [alice, bob]) {
		await expect(message(page, 'Second words')).toHaveCount(0);
		await expect(rowOf(page, 'Deletions')).toContainText('First words');
		await expect(rowOf(page, 'Deletions')).not.toContainText('No messages yet');
	}

	// Loaded: once the room has copied the deletion to D1, a fresh page says the same.
	await alice.page.waitForTimeout(1_500);
	for (const { page } of [alice, bob]) {
		await page.goto('/people');
		await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
		await expect(rowOf(page, 'Deletions')).toContainText('First words');
		await expect(rowOf(page, 'Deletions')).not.toContainText('No messages yet');
		await expect(rowOf(page, 'Deletions')).not.toContainText('Second words');
	}

	// Every message deleted: now there is nothing to show.
	alice.page.once('dialog', (dialog) => dialog.accept());
	await rowOf(alice.page, 'Deletions').click();
	await act(alice.page, 'First words', 'Delete');
	await expect(rowOf(alice.page, 'Deletions')).toContainText('No messages yet');
	await alice.page.waitForTimeout(1_500);
	await bob.page.reload();
	await expect(rowOf(bob.page, 'Deletions')).toContainText('No messages yet');
});

test('a room read just before loading another page by its address shows nothing unread there', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Catching up');
	const roomUrl = bob.page.url();
	await bob.page.goto('/people');
	const row = rowOf(bob.page, 'Catching up');
	await expect(row).toBeVisible();

	await say(alice.page, 'One');
	await say(alice.page, 'Two');
	await say(alice.page, 'Three');
	await expect(message(alice.page, 'Three')).toBeVisible();
	// The room tells Bob's hub once that it has news, merging what follows within a second: on a
	// busy machine 'Three' may come after that signal has left, so the count is not the point here.
	await expect(row).toContainText(/\b[1-3]\s*unread messages?\b/);

	// Bob reads the room, then at once loads another page by its address (a full page load),
	// well before the room copies his read position to D1.
	await bob.page.goto(roomUrl);
	await expectConnected(bob.page);
	await expect(message(bob.page, 'Three')).toBeVisible();
	await bob.page.goto('/people');
	await expect(bob.page.getByRole('heading', { level: 1 })).toBeVisible();
	await expect(row).toContainText('Three');
	await expect(row).not.toContainText('unread');

	// What Alice says next counts again, from where Bob read.
	await say(alice.page, 'Four');
	await expect(row).toContainText('Four');
	await expect(row).toContainText(/\b1\s*unread message\b/);
	await bob.page.reload();
	await expect(row).toContainText(/\b1\s*unread message\b/);
});
