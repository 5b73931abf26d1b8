import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { befriend, openProfile } from './people-support';
import {
	expectConnected,
	peopleInRoom,
	roomAction,
	say,
	setOffline,
	timeline
} from './realtime-support';
import { conversationRows } from './sidebar-support';
import { persona, signedInPage } from './support';
import { at, createRoom, expectAccessibleInBothThemes, personAt } from './ui-support';

const LONG_NAME = 'The long-running committee for planning the neighbourhood summer fair';

function header(page: Page) {
	return page.locator('section[data-connection] > header');
}

test('on a phone the room header is one row: back, title on one line, and one menu of actions', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'phone');
	const room = await createRoom(alice, LONG_NAME);
	await expectConnected(alice);

	const box = await header(alice).boundingBox();
	expect(box!.height).toBeLessThanOrEqual(72);
	const title = alice.getByRole('heading', { level: 1, name: LONG_NAME });
	await expect(title).toHaveAttribute('title', LONG_NAME);
	// One line, cut short: as tall as one line of text, and narrower than what it holds.
	const shape = await title.evaluate((h1) => ({
		height: h1.getBoundingClientRect().height,
		line: parseFloat(getComputedStyle(h1).lineHeight),
		cut: h1.scrollWidth > h1.clientWidth
	}));
	expect(shape.height).toBeLessThan(shape.line * 1.5);
	expect(shape.cut).toBe(true);
	await expect(header(alice)).toContainText('1 member · 1 online');
	await expect(header(alice).getByRole('link', { name: 'Conversations' })).toBeVisible();

	// The actions menu: Members, Details and Chat theme, each doing what it says.
	const actions = alice.getByRole('button', { name: 'Room actions' });
	const menu = alice.getByRole('menu', { name: 'Room actions' });
	await actions.click();
	await expect(menu.getByRole('menuitemcheckbox')).toHaveText(['Members']);
	await expect(menu.getByRole('menuitem')).toHaveText(['Details', 'Chat theme']);
	await menu.getByRole('menuitemcheckbox', { name: 'Members' }).click();
	await expect(menu).toBeHidden();
	await expect(alice.getByRole('complementary', { name: 'Members' })).toBeVisible();

	await roomAction(alice, 'Details');
	await expect(alice).toHaveURL(at(`${room}/details`));
	// One way back, named after the conversation.
	const back = alice.getByRole('navigation', { name: 'Room' }).getByRole('link');
	await expect(back).toHaveCount(1);
	await expect(back).toHaveAccessibleName(`Back to ${LONG_NAME}`);
	await back.click();
	await expect(alice).toHaveURL(at(room));

	await roomAction(alice, 'Chat theme');
	await expect(alice).toHaveURL(at(`${room}/theme`));
	await expect(alice.getByRole('heading', { name: `Chat theme for ${LONG_NAME}` })).toBeVisible();
	await alice.getByRole('navigation', { name: 'Room' }).getByRole('link').click();
	await expect(alice).toHaveURL(at(room));

	// Keyboard: Enter opens with the first item focused, arrows move, Escape closes and returns.
	await actions.focus();
	await alice.keyboard.press('Enter');
	await expect(menu.getByRole('menuitemcheckbox', { name: 'Members' })).toBeFocused();
	await alice.keyboard.press('ArrowDown');
	await expect(menu.getByRole('menuitem', { name: 'Details' })).toBeFocused();
	await alice.keyboard.press('ArrowUp');
	await alice.keyboard.press('ArrowUp');
	await expect(menu.getByRole('menuitem', { name: 'Chat theme' })).toBeFocused();
	await alice.keyboard.press('Escape');
	await expect(menu).toBeHidden();
	await expect(actions).toBeFocused();

	// A click outside closes it too.
	await actions.click();
	await expect(menu).toBeVisible();
	await timeline(alice).click();
	await expect(menu).toBeHidden();
});

test('on a desktop the same header has no back button: the list is beside it', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	await createRoom(alice, LONG_NAME);
	await expectConnected(alice);
	const box = await header(alice).boundingBox();
	expect(box!.height).toBeLessThanOrEqual(72);
	await expect(header(alice).getByRole('link', { name: 'Conversations' })).toBeHidden();
	await expect(alice.getByRole('button', { name: 'Room actions' })).toBeVisible();
});

test('the connection is mentioned only while it is not working', async ({ browser }) => {
	const [alice] = await peopleInRoom(browser, ['alice'], 'Signal');
	const status = alice.page.locator('section[data-connection]').getByRole('status');
	await expect(status).toHaveText('');
	await expect(alice.page.getByText('Connected', { exact: true })).toHaveCount(0);

	await setOffline(alice.page, true);
	await expect(status).toHaveText('Offline: messages will send when you’re back');
	await expect(status).toBeVisible();
	await say(alice.page, 'Sent from a tunnel');

	await setOffline(alice.page, false);
	await expectConnected(alice.page);
	await expect(status).toHaveText('');
	await expect(status).toBeHidden();
	await expect(timeline(alice.page).locator('li[data-seq] .body')).toHaveText([
		'Sent from a tunnel'
	]);
});

test('a friend with Parley open elsewhere is online in the direct conversation, as in the sidebar', async ({
	browser
}) => {
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);
	await befriend(alice, 'Alice', bob, bobWho);
	// Bob is on his home page, not in the conversation.
	await bob.goto('/');

	await openProfile(alice, bobWho);
	await alice.getByRole('button', { name: 'Message' }).click();
	await expect(alice.getByRole('heading', { level: 1, name: 'Bob' })).toBeVisible();
	await expectConnected(alice);
	await expect(conversationRows(alice).filter({ hasText: 'Bob' })).toContainText(', online');
	await expect(header(alice).locator('.subtitle')).toHaveText('Online');
});

test('the member list says a friend elsewhere is online, as the sidebar does', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Friends elsewhere');
	const room = alice.page.url();
	// Both leave the room to become friends; Bob stays on his friends page.
	await befriend(alice.page, 'Alice', bob.page, bob.who);
	await alice.page.goto(room);
	await expectConnected(alice.page);
	await expect(header(alice.page)).toContainText('2 members · 2 online');
	await roomAction(alice.page, 'Members');
	await expect(
		alice.page
			.getByRole('complementary', { name: 'Members' })
			.getByRole('listitem')
			.filter({ hasText: 'Bob' })
	).toContainText('Online');
});

for (const size of ['desktop', 'phone'] as const) {
	test(`the room header with its menu open, and the details page's frame, have no serious accessibility problems on a ${size}`, async ({
		browser
	}) => {
		// Four axe runs of a few seconds each on a busy 2-core machine.
		test.setTimeout(Math.max(test.info().timeout, 120_000));
		const alice = await personAt(browser, persona('alice'), size);
		const room = await createRoom(alice, LONG_NAME);
		await expectConnected(alice);
		await alice.getByRole('button', { name: 'Room actions' }).click();
		await expect(alice.getByRole('menu', { name: 'Room actions' })).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'room with its menu open');
		await alice.goto(`${room}/details`);
		await expect(alice.getByRole('navigation', { name: 'Room' })).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'room details');
	});
}
