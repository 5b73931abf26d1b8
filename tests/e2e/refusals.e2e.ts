// What a person sees when something is refused (issue 14): invite links that no longer work for
// them, the room turning down what their tab sends, and where the sidebar's "+" leads.
import { expect, test } from './fixtures';
import { persona, signedInPage } from './support';
import { at, createRoom, expectNoSeriousA11yViolations, openDetails } from './ui-support';
import { expectConnected } from './realtime-support';

test('a banned person, and anyone opening a revoked link, is told plainly what happened', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const bob = await signedInPage(browser, persona('bob'));
	const carol = await signedInPage(browser, persona('carol'));
	const roomPath = await createRoom(alice, 'Book club');

	await bob.goto(roomPath);
	await bob.getByRole('button', { name: 'Join room' }).click();
	await expectConnected(bob);

	await openDetails(alice, roomPath, 'invites');
	await alice.getByRole('button', { name: 'Create invite link' }).click();
	const link = await alice.getByLabel(/New invite link/).inputValue();
	await alice.getByRole('tab', { name: 'Members' }).click();
	await alice.getByRole('button', { name: 'Ban Bob' }).click();
	await expect(alice.getByRole('list', { name: 'Banned' })).toContainText('Bob');

	// Bob, banned, follows the link: a page that says why, not an error to retry.
	const answer = await bob.goto(link);
	expect(answer?.status()).toBe(403);
	await expect(bob.getByRole('heading', { level: 1 })).toHaveText('You can’t join this room');
	await expect(bob.getByRole('alert')).toHaveText('An admin removed you from Book club.');
	await expect(bob.getByRole('button', { name: /Try again/ })).toHaveCount(0);
	await expectNoSeriousA11yViolations(bob, 'a refused invite');
	await bob.getByRole('link', { name: 'Back to your conversations' }).click();
	await expect(bob).toHaveURL(at('/'));

	// The link is revoked: Carol is told so, and what she can do.
	await alice.getByRole('tab', { name: 'Invites' }).click();
	await alice
		.getByRole('list', { name: 'Invite links' })
		.getByRole('button', { name: 'Revoke' })
		.click();
	await expect(alice.getByRole('list', { name: 'Invite links' })).toContainText('Revoked');
	const revoked = await carol.goto(link);
	expect(revoked?.status()).toBe(410);
	await expect(carol.getByRole('heading', { level: 1 })).toHaveText(
		'This invite link was turned off'
	);
	await expect(carol.getByText('Ask a member of the room for a new link.')).toBeVisible();
	await expect(carol.getByRole('button', { name: /Try again/ })).toHaveCount(0);
});

test('when the room turns down what a tab sends, the person reads words meant for people', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const roomPath = await createRoom(alice, 'Fast talk');
	// Between the page and the room, more frames than the room allows go out from the tab's socket
	// (as a stuck key would send), and the room's real answers come back to the page.
	let flood = () => {};
	await alice.routeWebSocket(/\/ws\/room\//, (socket) => {
		const room = socket.connectToServer();
		flood = () => {
			for (let i = 0; i < 100; i++) room.send(JSON.stringify({ type: 'typing' }));
		};
	});
	await alice.goto(roomPath);
	await expectConnected(alice);
	flood();
	const notice = alice.getByRole('alert').filter({ hasText: /\S/ });
	await expect(notice).toHaveText('You’re sending very fast — wait a moment and try again.');
	await expect(notice).not.toContainText(/frame/i);
});

test('the sidebar’s + offers a group, a direct message or a public room, by mouse or keyboard', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const start = alice.getByRole('button', { name: 'Start a conversation' });
	await expect(start).toHaveAttribute('aria-haspopup', 'menu');
	await expect(start).toHaveAttribute('aria-expanded', 'false');

	await start.click();
	await expect(start).toHaveAttribute('aria-expanded', 'true');
	const menu = alice.getByRole('menu', { name: 'Start a conversation' });
	await expect(menu.getByRole('menuitem')).toHaveText([
		'New group',
		'New direct message',
		'New public room'
	]);
	await expect(menu.getByRole('menuitem', { name: 'New group' })).toBeFocused();
	await expectNoSeriousA11yViolations(alice, 'the new conversation menu');
	await alice.keyboard.press('Escape');
	await expect(menu).toBeHidden();
	await expect(start).toBeFocused();

	// Keyboard: open, move down twice, wrap around, choose.
	await alice.keyboard.press('Enter');
	await alice.keyboard.press('ArrowDown');
	await expect(menu.getByRole('menuitem', { name: 'New direct message' })).toBeFocused();
	await alice.keyboard.press('ArrowUp');
	await alice.keyboard.press('ArrowUp');
	await expect(menu.getByRole('menuitem', { name: 'New public room' })).toBeFocused();
	await alice.keyboard.press('ArrowDown');
	await expect(menu.getByRole('menuitem', { name: 'New group' })).toBeFocused();
	await alice.keyboard.press('Enter');
	await expect(alice).toHaveURL(at('/groups/new'));
	await expect(alice.getByRole('heading', { level: 1, name: 'New group' })).toBeVisible();

	await start.click();
	await menu.getByRole('menuitem', { name: 'New direct message' }).click();
	await expect(alice).toHaveURL(at('/people'));
	await expect(alice.getByRole('heading', { level: 1, name: 'Find people' })).toBeVisible();

	await start.click();
	await menu.getByRole('menuitem', { name: 'New public room' }).click();
	await expect(alice).toHaveURL(at('/'));
	await expect(alice.getByLabel('New room')).toBeFocused();
});
