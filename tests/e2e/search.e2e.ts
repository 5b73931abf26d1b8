// Search (messages, people and rooms): the search box over every page, the full results page, and
// landing on a message found, in its room.
import { expect, test } from './fixtures';
import type { Locator, Page } from '@playwright/test';
import { persona, signedInPage } from './support';
import { at, createRoom } from './ui-support';
import {
	expectConnected,
	message,
	peopleInRoom,
	say,
	sendMany,
	timeline
} from './realtime-support';

function searchBox(page: Page): Locator {
	return page.getByRole('dialog', { name: 'Search' });
}

function searchField(page: Page): Locator {
	return searchBox(page).getByRole('searchbox', { name: 'Search messages, people and rooms' });
}

/**
 * Types in the search box until its answer shows what is expected: a message reaches the index a
 * moment after it is sent, and the box does not ask again for the same text by itself.
 */
async function searchFor(page: Page, text: string, expected: Locator): Promise<void> {
	await expect(async () => {
		await searchField(page).fill('');
		await searchField(page).pressSequentially(text);
		await expect(expected.first()).toBeVisible({ timeout: 2000 });
	}).toPass();
}

/** Opens the search box with a shortcut, once the page's code listens for it. */
async function openSearch(page: Page, keys = 'Control+Shift+F'): Promise<void> {
	await expect(async () => {
		await page.keyboard.press(keys);
		await expect(searchBox(page)).toBeVisible({ timeout: 1000 });
	}).toPass();
}

test('a message found from the search box opens in its room, highlighted, far back in history', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Design review');
	const roomPath = new URL(bob.page.url()).pathname;
	await say(alice.page, 'The quokka mockups are ready for review');
	await expect(message(alice.page, 'The quokka mockups')).toHaveAttribute('data-seq', /\d+/);
	// Enough after it that it is not among the newest the room first shows.
	await sendMany(
		alice.page,
		Array.from({ length: 60 }, (_, i) => `Filler update ${i + 1}`)
	);
	// Bob has a room of his own where the word comes up too.
	await createRoom(bob.page, 'Side room');
	await expectConnected(bob.page);
	await say(bob.page, 'A quokka sighting by the lake');
	await expect(message(bob.page, 'A quokka sighting')).toHaveAttribute('data-seq', /\d+/);

	await bob.page.goto(roomPath);
	await expectConnected(bob.page);
	await expect(message(bob.page, 'Filler update 60')).toBeVisible();
	await expect(message(bob.page, 'The quokka mockups')).toHaveCount(0);

	// The shortcut works with focus in the composer, as everywhere.
	await bob.page.getByRole('textbox', { name: 'Message' }).focus();
	await openSearch(bob.page);
	await expect(searchField(bob.page)).toBeFocused();
	const box = searchBox(bob.page);
	const messages = box.getByRole('region', { name: 'Messages' });
	// Found as the word is typed (its start is enough), both rooms' messages.
	await searchFor(bob.page, 'quokk', messages.getByRole('link', { name: /Side room/ }));
	await expect(box.getByRole('status')).toHaveText(/^2 messages/);
	const found = messages.getByRole('link', { name: /The quokka mockups/ });
	await expect(found).toContainText('Alice');
	await expect(found).toContainText('#Design review');
	await expect(found.locator('mark')).toHaveText(['quokka']);
	await expect(found.locator('time')).toBeVisible();

	// "In this room" keeps the search to the conversation open behind the box.
	const inRoom = box.getByRole('button', { name: 'In this room' });
	await expect(inRoom).toHaveAttribute('aria-pressed', 'false');
	await inRoom.click();
	await expect(inRoom).toHaveAttribute('aria-pressed', 'true');
	await expect(messages.getByRole('link')).toHaveCount(1);
	await expect(box.getByRole('status')).toHaveText(/^1 message\b/);
	await expect(found).toBeVisible();

	// Down from the text to the result, Enter opens it: the room, scrolled back to the message.
	await searchField(bob.page).focus();
	await bob.page.keyboard.press('ArrowDown');
	await expect(found).toBeFocused();
	await bob.page.keyboard.press('Enter');
	await expect(box).toBeHidden();
	await expect(bob.page).toHaveURL(new RegExp(`${roomPath}\\?m=\\d+$`));
	const target = message(bob.page, 'The quokka mockups are ready for review');
	await expect(target).toBeInViewport();
	await expect(target).toHaveClass(/highlighted/);
	await expect(target).toBeFocused();
	await expect(message(bob.page, 'Filler update 60')).toHaveCount(0);
	await expect(timeline(bob.page)).toBeVisible();
});

test('the search page: filter chips, typed filters, sort, more results and refusals', async ({
	browser
}) => {
	// Three people, fifty messages and a dozen searches: more than one minute on two busy cores.
	test.setTimeout(120_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Planning');
	const planning = new URL(alice.page.url()).pathname;
	await say(alice.page, 'budget budget budget, the whole budget');
	await expect(message(alice.page, 'the whole budget')).toHaveAttribute('data-seq', /\d+/);
	await sendMany(
		alice.page,
		Array.from({ length: 22 }, (_, i) => `Budget line ${i + 1} agreed`)
	);
	await say(alice.page, 'The budget sheet is at https://example.com/sheet');
	await expect(message(alice.page, 'The budget sheet')).toHaveAttribute('data-seq', /\d+/);
	await say(bob.page, 'A budget question from Bob');
	await expect(message(bob.page, 'A budget question')).toHaveAttribute('data-seq', /\d+/);
	// A public room Alice has not joined, with the word in its name and in a message.
	const carol = await signedInPage(browser, persona('carol'));
	const town = await createRoom(carol, 'Budget town');
	await expectConnected(carol);
	await say(carol, 'Town budget meeting on Monday');
	await expect(message(carol, 'Town budget meeting')).toHaveAttribute('data-seq', /\d+/);

	const page = alice.page;
	const list = page.getByRole('list', { name: 'Messages found' });
	const field = page.getByRole('main').getByRole('searchbox', {
		name: 'Search messages, people and rooms'
	});
	const status = page.getByRole('main').getByRole('status');
	// Newest first: the last said leads; a page holds 20, the rest come with "More results".
	await expect(async () => {
		await page.goto('/search?q=budget');
		await expect(list.getByRole('listitem').first()).toContainText('A budget question from Bob', {
			timeout: 1000
		});
	}).toPass();
	await expect(field).toHaveValue('budget');
	await expect(status).toHaveText('20 messages, more below');
	await expect(list.getByRole('listitem')).toHaveCount(20);
	await expect(list.getByRole('link').first()).toHaveAttribute(
		'href',
		new RegExp(`^${planning}\\?m=\\d+$`)
	);
	// Not joined, not searched, unless asked: but the room itself is found by its name.
	await expect(list).not.toContainText('Town budget meeting');
	const rooms = page.getByRole('region', { name: 'Public rooms' });
	// By its address: a retry of this test makes another room of the same name.
	await expect(rooms.locator(`a[href="${town}"]`)).toContainText('Budget town');
	await expect(rooms).toContainText('Not joined');

	await page.getByRole('link', { name: 'More results' }).click();
	await expect(list.getByRole('listitem')).toHaveCount(25);
	await expect(status).toHaveText('25 messages');
	await expect(page.getByRole('link', { name: 'More results' })).toHaveCount(0);
	await expect(list.getByRole('listitem').last()).toContainText('the whole budget');

	// Best match: the message that says it most leads.
	await page.getByRole('radio', { name: 'Best match' }).check();
	await expect(page).toHaveURL(/[?&]sort=best/);
	await expect(list.getByRole('listitem').first()).toContainText('the whole budget');
	await page.getByRole('radio', { name: 'Newest' }).check();
	await expect(list.getByRole('listitem').first()).toContainText('A budget question from Bob');

	// A chip adds its filter to the text, and takes it out again.
	const hasLink = page.getByRole('button', { name: 'Has link' });
	await expect(hasLink).toHaveAttribute('aria-pressed', 'false');
	await hasLink.click();
	await expect(field).toHaveValue('budget has:link');
	await expect(hasLink).toHaveAttribute('aria-pressed', 'true');
	await expect(status).toHaveText('1 message');
	await expect(list.getByRole('listitem')).toHaveText([/The budget sheet/]);
	await hasLink.click();
	await expect(field).toHaveValue('budget');
	await expect(status).toHaveText('20 messages, more below');

	// A filter typed shows as a chip of its own.
	await field.fill(`budget from:@${bob.who.username}`);
	await field.press('Enter');
	await expect(status).toHaveText('1 message');
	await expect(list.getByRole('listitem')).toHaveText([/A budget question from Bob/]);
	await expect(list.getByRole('listitem')).toContainText('Bob');
	const fromBob = page.getByRole('button', { name: `Remove from:@${bob.who.username}` });
	await expect(fromBob).toBeVisible();
	await fromBob.click();
	await expect(field).toHaveValue('budget');

	// "From me" is my own messages only.
	await page.getByRole('button', { name: 'From me' }).click();
	await expect(field).toHaveValue(`budget from:@${alice.who.username}`);
	await expect(list).not.toContainText('A budget question from Bob');
	await page.getByRole('button', { name: 'From me' }).click();
	await expect(field).toHaveValue('budget');
	await expect(list).toContainText('A budget question from Bob');

	// Public rooms not joined, when asked: marked as such, and the link goes to the room.
	await page.getByRole('checkbox', { name: "Include public rooms I haven't joined" }).check();
	await expect(page).toHaveURL(/[?&]public=1/);
	const townHit = list.getByRole('listitem').filter({ hasText: 'Town budget meeting' });
	await expect(townHit).toContainText('Not joined');
	await expect(townHit.getByRole('link')).toHaveAttribute('href', town);

	// What cannot be searched says why, in words for people.
	await field.fill('*');
	await field.press('Enter');
	await expect(page.getByRole('alert')).toHaveText(
		'A * needs some letters before it, like design*.'
	);
	await expect(list).toHaveCount(0);
	await field.fill('budget from:@nobody_here_at_all');
	await field.press('Enter');
	await expect(page.getByRole('alert')).toContainText('@nobody_here_at_all');

	// Without JavaScript the page is a plain form: a chip is a submit button the server applies,
	// and "More results" a link to the next page.
	const plain = await (
		await browser.newContext({
			javaScriptEnabled: false,
			storageState: await page.context().storageState()
		})
	).newPage();
	const plainList = plain.getByRole('list', { name: 'Messages found' });
	await plain.goto('/search?q=budget');
	await expect(plain.getByRole('main').getByRole('status')).toHaveText('20 messages, more below');
	await plain.getByRole('link', { name: 'More results' }).click();
	await expect(plainList.getByRole('listitem')).toHaveCount(5);
	await expect(plain.getByRole('link', { name: 'Back to the first results' })).toBeVisible();
	await plain.goto('/search?q=budget');
	await plain.getByRole('button', { name: 'Has link' }).click();
	await expect(plain).toHaveURL(/[?&]q=budget\+has%3Alink(&|$)/);
	await expect(plainList.getByRole('listitem')).toHaveText([/The budget sheet/]);
	await plain.context().close();

	// The full results page is also where Enter in the box leads.
	await page.goto(planning);
	await expectConnected(page);
	await openSearch(page);
	await searchFor(page, 'sheet', searchBox(page).getByRole('link', { name: /The budget sheet/ }));
	await searchField(page).press('Enter');
	await expect(page).toHaveURL(at('/search'));
	await expect(field).toHaveValue('sheet');
	await expect(list.getByRole('listitem')).toHaveText([/The budget sheet/]);
});

test('"/" and Ctrl+Shift+F open the search box, Escape closes it and focus goes back', async ({
	browser
}) => {
	const page = await signedInPage(browser, persona('dana'));
	const friends = page
		.getByRole('navigation', { name: 'Explore' })
		.getByRole('link', { name: /^Friends/ });
	await friends.focus();
	await openSearch(page, '/');
	await expect(searchField(page)).toBeFocused();
	// With words typed too: Escape closes, it does not only empty the field.
	await searchField(page).fill('anything');
	await page.keyboard.press('Escape');
	await expect(searchBox(page)).toBeHidden();
	await expect(friends).toBeFocused();

	// In a text field "/" is typing; Ctrl+Shift+F still opens the box.
	const filter = page.getByRole('searchbox', { name: 'Search conversations' });
	await filter.focus();
	await page.keyboard.press('/');
	await expect(filter).toHaveValue('/');
	await expect(searchBox(page)).toBeHidden();
	await page.keyboard.press('Control+Shift+F');
	await expect(searchField(page)).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(filter).toBeFocused();
	await filter.fill('');

	// The sidebar's button opens it too.
	const button = page.getByRole('button', { name: 'Search', exact: true });
	await button.click();
	await expect(searchField(page)).toBeFocused();
	await page.keyboard.press('Escape');
	await expect(button).toBeFocused();

	// And the help lists the keys.
	await page.locator('body').click();
	await page.keyboard.press('?');
	const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
	await expect(help.getByRole('row', { name: /Search messages, people and rooms/ })).toContainText(
		/Ctrl\s*\+\s*Shift\s*\+\s*F\s*or\s*\//
	);
});
