import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import {
	act,
	expectNotConnected,
	message,
	peopleInRoom,
	roomAction,
	say,
	sendMany,
	setOffline,
	setTabHidden,
	timeline
} from './realtime-support';

test('people see who is typing, and the indicator goes when the message comes or typing stops', async ({
	browser
}) => {
	const [alice, bob, carol] = await peopleInRoom(browser, ['alice', 'bob', 'carol'], 'Typing');
	const indicator = alice.page.locator('.typing');

	await bob.page.getByRole('textbox', { name: 'Message' }).fill('Hang on, let me che');
	await expect(indicator).toHaveText('Bob is typing…');

	await carol.page.getByRole('textbox', { name: 'Message' }).fill('Me t');
	await expect(indicator).toHaveText(/^(Bob and Carol|Carol and Bob) are typing…$/);

	await bob.page.getByRole('textbox', { name: 'Message' }).fill('Hang on, let me check.');
	await bob.page.getByRole('textbox', { name: 'Message' }).press('Enter');
	await expect(message(alice.page, 'Hang on, let me check.')).toBeVisible();
	await expect(indicator).toHaveText('Carol is typing…');

	// Carol stops typing: six seconds after her last keystroke, nobody is typing.
	await expect(indicator).toHaveText('', { timeout: 9_000 });
});

test('a sender sees their message delivered, then seen, with the names of who saw it', async ({
	browser
}) => {
	const [alice, bob, carol] = await peopleInRoom(browser, ['alice', 'bob', 'carol'], 'Receipts');
	// Bob and Carol have switched to other tabs: messages reach them but nobody reads them yet.
	await setTabHidden(bob.page, true);
	await setTabHidden(carol.page, true);

	await say(alice.page, 'Lunch at noon?');
	const receipt = message(alice.page, 'Lunch at noon?').locator('.receipt');
	await expect(receipt).toHaveText('Delivered');

	await setTabHidden(bob.page, false);
	await expect(receipt).toContainText('Seen by 1');
	await expect(receipt.locator('summary')).toHaveAttribute('title', 'Bob');
	// Bob came back to a divider above what he had not seen.
	await expect(timeline(bob.page).getByRole('separator', { name: 'New messages' })).toBeVisible();

	await setTabHidden(carol.page, false);
	await expect(receipt).toContainText('Seen by 2');
	await receipt.locator('summary').click();
	await expect(receipt).toContainText(/Seen by (Bob, Carol|Carol, Bob)/);
});

test('edits, deletions, replies, reactions and mentions appear live for everyone', async ({
	browser
}) => {
	const [alice, bob, carol] = await peopleInRoom(browser, ['alice', 'bob', 'carol'], 'Plans');
	await say(alice.page, 'Meet at 5 at the station');
	await expect(message(bob.page, 'Meet at 5')).toBeVisible();

	// Alice edits: everyone sees the new words, marked as edited, in the same place.
	await act(alice.page, 'Meet at 5', 'Edit');
	const box = alice.page.getByRole('textbox', { name: 'Message' });
	await expect(box).toHaveValue('Meet at 5 at the station');
	await box.fill('Meet at 6 at the station');
	await box.press('Enter');
	for (const person of [alice, bob, carol]) {
		await expect(message(person.page, 'Meet at 6 at the station')).toContainText('(edited)');
	}

	// Bob and Carol react; Alice sees the count and who.
	const reactOn = async (page: Page, emoji: string) => {
		const item = message(page, 'Meet at 6');
		await item.hover();
		await item.getByRole('button', { name: 'Add reaction' }).click();
		await item.getByRole('button', { name: `React with ${emoji}` }).click();
	};
	await reactOn(bob.page, '👍');
	await reactOn(carol.page, '👍');
	const thumbs = message(alice.page, 'Meet at 6').getByRole('button', { name: /^👍 2/ });
	await expect(thumbs).toBeVisible();
	await expect(thumbs).toHaveAttribute('title', /Bob/);
	await expect(thumbs).toHaveAttribute('title', /Carol/);
	// Carol takes hers back.
	await message(carol.page, 'Meet at 6').getByRole('button', { name: /^👍/ }).click();
	await expect(
		message(alice.page, 'Meet at 6').getByRole('button', { name: /^👍 1/ })
	).toBeVisible();

	// Bob replies, mentioning Alice: the reply quotes her message and her name lights up for her.
	await act(bob.page, 'Meet at 6', 'Reply');
	await say(bob.page, `Works for me @${alice.who.username}`);
	const reply = message(alice.page, 'Works for me');
	await expect(reply.getByRole('button', { name: /In reply to Alice/ })).toContainText('Meet at 6');
	await expect(reply).toHaveClass(/mentioned/);
	await expect(reply.locator('.mention-self')).toHaveText(`@${alice.who.username}`);
	await expect(message(carol.page, 'Works for me').locator('.mention')).toHaveText(
		`@${alice.who.username}`
	);
	await expect(message(carol.page, 'Works for me').locator('.mention-self')).toHaveCount(0);

	// Alice deletes her message: a tombstone stays, the quote says so.
	alice.page.once('dialog', (dialog) => dialog.accept());
	await act(alice.page, 'Meet at 6', 'Delete');
	for (const person of [bob, carol]) {
		await expect(timeline(person.page).getByText('This message was deleted.')).toBeVisible();
		await expect(timeline(person.page).getByText('Meet at 6')).toHaveCount(0);
		await expect(message(person.page, 'Works for me')).toContainText('Deleted message');
	}
});

test('messages written offline are sent once when the browser is back, and appear once for everyone', async ({
	browser
}) => {
	const [alice, bob, carol] = await peopleInRoom(browser, ['alice', 'bob', 'carol'], 'Offline');
	await setOffline(alice.page, true);
	await expectNotConnected(alice.page);

	await say(alice.page, 'Written on the train');
	await say(alice.page, 'Still no signal');
	const waiting = timeline(alice.page).locator('li.pending');
	await expect(waiting).toHaveCount(2);
	await expect(waiting.first()).toContainText('Waiting for a connection…');
	await expect(message(bob.page, 'Written on the train')).toHaveCount(0);

	await setOffline(alice.page, false);
	for (const person of [alice, bob, carol]) {
		const bodies = timeline(person.page).locator('li[data-seq] .body');
		await expect(bodies).toHaveText(['Written on the train', 'Still no signal'], {
			timeout: 20_000
		});
	}
	await expect(waiting).toHaveCount(0);
	// Still once each after a reload: the room stored each one once.
	await bob.page.reload();
	await expect(timeline(bob.page).locator('li[data-seq] .body')).toHaveText([
		'Written on the train',
		'Still no signal'
	]);
});

test('a message that never reached the room survives a reload and is sent once afterwards', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Outbox');
	const roomUrl = alice.page.url();
	// A second tab whose connection to the room silently swallows everything.
	const blackhole = await alice.page.context().newPage();
	await blackhole.routeWebSocket(/\/ws\/room\//, () => {});
	await blackhole.goto(roomUrl);
	await say(blackhole, 'Sent into the void');
	await expect(timeline(blackhole).locator('li.pending')).toContainText('Sent into the void');
	await blackhole.close();

	// Alice reloads her real tab: the outbox (IndexedDB) still has it, and now it goes.
	await alice.page.reload();
	await expect(message(alice.page, 'Sent into the void')).toHaveCount(1);
	await expect(message(bob.page, 'Sent into the void')).toHaveCount(1);
	await alice.page.reload();
	await expect(message(alice.page, 'Sent into the void')).toHaveCount(1);
	await expect(timeline(alice.page).locator('li.pending')).toHaveCount(0);
});

test('older messages load when scrolling up, without losing the place, and a link jumps to one message', async ({
	browser
}) => {
	test.setTimeout(120_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'History');
	await sendMany(
		alice.page,
		Array.from({ length: 70 }, (_, i) => `Message number ${i + 1}`)
	);
	await bob.page.reload();
	const log = timeline(bob.page);
	await expect(log.locator('li[data-seq]').last()).toContainText('Message number 70');
	// One page of 50 at first.
	await expect(log.locator('li[data-seq]')).toHaveCount(50);
	const firstLoaded = message(bob.page, /^Message number 21$/);

	await log.evaluate((el) => el.scrollTo({ top: 0 }));
	await expect(log.locator('li[data-seq]')).toHaveCount(70);
	await expect(message(bob.page, /^Message number 1$/)).toHaveCount(1);
	// The message that was at the top is still in view: the list grew above it.
	await expect(firstLoaded).toBeInViewport();

	// New messages while Bob reads old ones do not move him; a button offers to go down.
	await say(alice.page, 'Anyone there?');
	await expect(bob.page.getByRole('button', { name: /1 new message/ })).toBeVisible();
	await expect(firstLoaded).toBeInViewport();

	// A link to message 5 opens the room there, with it highlighted.
	const link = `${new URL(bob.page.url()).pathname}?m=5`;
	await bob.page.goto(link);
	const target = message(bob.page, /^Message number 5$/);
	await expect(target).toBeInViewport();
	await expect(target).toHaveClass(/highlighted/);
	// The window ends before the live end; going down from there meets it again. Scrolling near the
	// end pages forward by itself (clicking the button would race that paging: it scrolls first).
	const newer = bob.page.getByRole('button', { name: 'Load newer messages' });
	await expect(newer).toBeVisible();
	await expect(async () => {
		await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
		await expect(message(bob.page, 'Anyone there?')).toHaveCount(1, { timeout: 1000 });
	}).toPass();
	await expect(newer).toHaveCount(0);
});

test('members show as online, away when their tab is hidden, and offline with a last-seen time', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Presence');
	await roomAction(alice.page, 'Members');
	const bobRow = alice.page
		.getByRole('complementary', { name: 'Members' })
		.getByRole('listitem')
		.filter({ hasText: 'Bob' });
	await expect(bobRow).toContainText('Online');

	await setTabHidden(bob.page, true);
	await expect(bobRow).toContainText('Away');

	await bob.page.close();
	await expect(bobRow).toContainText('Last seen just now');
	await expect(alice.page.getByText('1 online')).toBeVisible();
});
