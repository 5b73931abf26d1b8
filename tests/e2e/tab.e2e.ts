// The browser tab: what is unread shows in its title and icon, and the icon browsers ask for exists.
import { expect, test } from './fixtures';
import { peopleInRoom, say } from './realtime-support';
import { conversationRows } from './sidebar-support';

test('the tab’s title and icon say how much is unread, and reading clears them', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Tab news');
	const icon = bob.page.locator('link[rel="icon"]');
	await bob.page.goto('/people');
	await expect(bob.page).toHaveTitle(/^Find people · Parley$/);
	await expect(icon).toHaveAttribute('href', /\/favicon\.svg$/);

	await say(alice.page, 'One for the tab');
	await say(alice.page, 'Two for the tab');
	await expect(bob.page).toHaveTitle(/^\(2\) Find people · Parley$/);
	await expect(icon).toHaveAttribute('href', /\/favicon-unread\.svg$/);

	// Another page keeps the count in front of its own title.
	await bob.page.goto('/friends');
	await expect(bob.page).toHaveTitle(/^\(2\) Friends · Parley$/);

	// Reading the room clears both.
	await conversationRows(bob.page).filter({ hasText: 'Tab news' }).click();
	await expect(bob.page).toHaveTitle(/^Tab news · Parley$/);
	await expect(icon).toHaveAttribute('href', /\/favicon\.svg$/);
});

test('/favicon.ico leads to the app’s icon instead of a 404', async ({ request }) => {
	const response = await request.get('/favicon.ico');
	expect(response.status()).toBe(200);
	expect(response.url()).toMatch(/\/favicon\.svg$/);
	expect(response.headers()['content-type']).toContain('image/svg+xml');
});
