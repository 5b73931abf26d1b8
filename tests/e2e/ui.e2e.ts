import { expect, test } from './fixtures';
import { persona, register } from './support';
import { at, createRoom, expectAccessibleInBothThemes, personAt, SIZES } from './ui-support';
import { expectConnected, roomAction } from './realtime-support';

for (const size of ['desktop', 'phone'] as const) {
	test(`every main screen has no serious accessibility problems on a ${size}, in light and dark`, async ({
		browser
	}) => {
		// Some twenty-four axe runs of ~1-2 s each on a 2-core machine, after the whole suite warmed the server.
		test.setTimeout(Math.max(test.info().timeout, 240_000));
		const visitor = await (await browser.newContext(SIZES[size])).newPage();
		await visitor.goto('/login');
		await expect(visitor.getByRole('heading', { name: 'Log in' })).toBeVisible();
		await expectAccessibleInBothThemes(visitor, 'login');
		await visitor.goto('/register');
		await expectAccessibleInBothThemes(visitor, 'register');

		const alice = await personAt(browser, persona('alice'), size);
		await expect(
			alice.getByRole('heading', { name: 'Start your first conversation' })
		).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'home, empty');

		const room = await createRoom(alice, 'Weekend plans');
		await expectConnected(alice);
		await alice.getByRole('textbox', { name: 'Message' }).fill('Hello **there**');
		await alice.getByRole('textbox', { name: 'Message' }).press('Enter');
		await expect(alice.getByRole('log').getByText('Hello')).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'room');
		await alice.getByRole('button', { name: 'Insert emoji' }).click();
		await expect(alice.getByRole('dialog', { name: 'Emoji' })).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'emoji picker');
		await alice.keyboard.press('Escape');

		// The search box, with what it found (the message reaches the index a moment after it
		// is sent: type again until it shows).
		await expect(async () => {
			await alice.keyboard.press('Control+Shift+F');
			await expect(alice.getByRole('dialog', { name: 'Search' })).toBeVisible({ timeout: 1000 });
		}).toPass();
		const searchBox = alice.getByRole('dialog', { name: 'Search' });
		await expect(async () => {
			const field = searchBox.getByRole('searchbox', {
				name: 'Search messages, people and rooms'
			});
			await field.fill('');
			await field.pressSequentially('hello');
			await expect(searchBox.locator('mark').first()).toHaveText(/hello/i, { timeout: 2000 });
		}).toPass();
		await expectAccessibleInBothThemes(alice, 'search box');
		await alice.keyboard.press('Escape');
		await expect(searchBox).toBeHidden();

		await alice.goto('/search?q=hello');
		await expect(
			alice.getByRole('list', { name: 'Messages found' }).getByRole('listitem')
		).toHaveCount(1);
		await expectAccessibleInBothThemes(alice, 'search results');

		await alice.goto(`${room}/theme`);
		await expectAccessibleInBothThemes(alice, 'chat theme');

		await alice.goto('/settings/appearance');
		await expect(alice.getByRole('heading', { name: 'Appearance' })).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'appearance');

		await alice.goto('/settings/notifications');
		await expect(alice.getByText('Off in this browser.')).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'notification settings');

		await alice.goto('/notifications');
		await expect(alice.getByRole('heading', { name: 'Notifications', level: 1 })).toBeVisible();
		await expectAccessibleInBothThemes(alice, 'notifications inbox');

		await alice.goto('/');
		// "?" works once the page has hydrated, which can trail the load event: press until then.
		await expect(async () => {
			await alice.keyboard.press('?');
			await expect(alice.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible({
				timeout: 1000
			});
		}).toPass();
		await expectAccessibleInBothThemes(alice, 'shortcuts dialog');
	});
}

test('a new person is told what to do next, and the sidebar fills as they join conversations', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	const sidebar = alice.getByRole('navigation', { name: 'Conversations' });
	await expect(sidebar).toContainText('No conversations yet');
	await expect(alice.getByRole('link', { name: 'Browse public rooms' })).toHaveAttribute(
		'href',
		'/directory'
	);

	await createRoom(alice, 'Book club');
	await createRoom(alice, 'Weekend plans');
	await expect(sidebar.getByRole('link')).toHaveCount(2);
	await expect(sidebar.getByRole('link', { name: /Weekend plans/ })).toHaveAttribute(
		'aria-current',
		'page'
	);

	// Searching narrows the list; a search that finds nothing says so and offers a way back.
	const search = alice.getByRole('searchbox', { name: 'Search conversations' });
	await search.fill('book');
	await expect(sidebar.getByRole('link')).toHaveText([/Book club/]);
	await search.fill('gardening');
	await expect(sidebar).toContainText('Nothing matches “gardening”');
	await sidebar.getByRole('button', { name: 'Show all conversations' }).click();
	await expect(sidebar.getByRole('link')).toHaveCount(2);
	await expect(search).toHaveValue('');
});

test('the keyboard reaches everything: help, search, switching and marking conversations read', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	const first = await createRoom(alice, 'First room');
	const second = await createRoom(alice, 'Second room');

	await alice.locator('body').click();
	await alice.keyboard.press('?');
	const help = alice.getByRole('dialog', { name: 'Keyboard shortcuts' });
	await expect(help).toBeVisible();
	await expect(help).toContainText('Next conversation');
	await alice.keyboard.press('Escape');
	await expect(help).toBeHidden();

	// The menu offers the same help, for those who don't know about "?".
	await alice.getByRole('button', { name: /account menu/ }).click();
	await alice.getByRole('button', { name: 'Keyboard shortcuts' }).click();
	await expect(help).toBeVisible();
	await help.getByRole('button', { name: 'Close' }).click();

	await alice.keyboard.press('Control+k');
	await expect(alice.getByRole('searchbox', { name: 'Search conversations' })).toBeFocused();

	// Most recent first: "Second room" is open, so Alt+Down goes to "First room" and wraps back.
	await expect(alice).toHaveURL(at(second));
	await alice.keyboard.press('Alt+ArrowDown');
	await expect(alice).toHaveURL(at(first));
	await expect(alice.getByRole('heading', { name: 'First room', level: 1 })).toBeVisible();
	await alice.keyboard.press('Alt+ArrowDown');
	await expect(alice).toHaveURL(at(second));

	// Marking read is announced to the room view as a DOM event carrying the room id.
	const detail = alice.evaluate(
		() =>
			new Promise<unknown>((resolve) =>
				window.addEventListener('parley:mark-read', (e) => resolve((e as CustomEvent).detail), {
					once: true
				})
			)
	);
	await alice.getByRole('textbox', { name: 'Message' }).focus();
	await alice.keyboard.press('Shift+Escape');
	expect(await detail).toEqual({ roomId: second.split('/').pop() });

	// Tab reaches the skip link first, and it leads to the main content.
	await alice.goto('/');
	await alice.keyboard.press('Tab');
	const skip = alice.getByRole('link', { name: 'Skip to content' });
	await expect(skip).toBeFocused();
	await expect(skip).toBeInViewport();
});

test('moving to a conversation puts focus on its heading, so screen readers announce it', async ({
	browser
}) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	await createRoom(alice, 'Focus room');
	await alice.goto('/settings/appearance');
	await alice
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('link', { name: /Focus room/ })
		.click();
	await expect(alice.getByRole('heading', { name: 'Focus room', level: 1 })).toBeFocused();
});

test('on a phone one pane shows at a time, with a way back to the list', async ({ browser }) => {
	const alice = await personAt(browser, persona('alice'), 'phone');
	const room = await createRoom(alice, 'Pocket room');
	const list = alice.getByRole('navigation', { name: 'Conversations' });
	await expect(list).toBeHidden();
	await alice.getByRole('link', { name: 'Conversations' }).click();
	await expect(alice).toHaveURL(at('/'));
	await expect(list).toBeVisible();
	await list.getByRole('link', { name: /Pocket room/ }).click();
	await expect(alice).toHaveURL(at(room));
	await expect(alice.getByRole('textbox', { name: 'Message' })).toBeInViewport();

	await alice.goto('/settings/appearance');
	await expect(list).toBeHidden();
	await expect(alice.getByRole('link', { name: 'Conversations' })).toBeVisible();
});

test('theme, text size, motion and contrast apply at once, persist on this device and never flash', async ({
	browser
}) => {
	const context = await browser.newContext({ ...SIZES.desktop, colorScheme: 'light' });
	const page = await context.newPage();
	await register(page, persona('alice'));
	const html = page.locator('html');
	// Settings apply through the page's state, a moment after the control changes: poll, don't sample.
	const background = (colour: string) =>
		expect
			.poll(() => page.evaluate(() => getComputedStyle(document.body).backgroundColor))
			.toBe(colour);
	await background('rgb(255, 255, 255)');

	// The controls work once the page has hydrated, which can trail the load event: retry the first.
	const settle = async (act: () => Promise<void>, attribute: string, value: string) =>
		expect(async () => {
			await act();
			await expect(html).toHaveAttribute(attribute, value, { timeout: 1000 });
		}).toPass();

	await page.goto('/settings/appearance');
	await settle(
		() => page.getByRole('radio', { name: 'Dark', exact: true }).check(),
		'data-theme',
		'dark'
	);
	await background('rgb(21, 22, 26)');
	await page.getByRole('radio', { name: 'Larger', exact: true }).check();
	await expect
		.poll(() => page.evaluate(() => getComputedStyle(document.documentElement).fontSize))
		.toBe('20px');
	await page.getByRole('radio', { name: /Reduce motion/ }).check();
	await page.getByRole('checkbox', { name: /Increase contrast/ }).check();
	await expect(html).toHaveAttribute('data-contrast', 'more');
	await background('rgb(0, 0, 0)');

	// Applied by the inline script before any of the app's JavaScript runs: block it all and reload.
	await page.route('**/_app/immutable/**/*.js', (route) => route.abort());
	await page.reload();
	await expect(html).toHaveAttribute('data-theme', 'dark');
	await expect(html).toHaveAttribute('data-text-size', 'larger');
	await expect(html).toHaveAttribute('data-motion', 'reduce');
	await background('rgb(0, 0, 0)');
	await page.unroute('**/_app/immutable/**/*.js');

	// "Match system" follows the device's own setting.
	await page.reload();
	await settle(
		() => page.getByRole('checkbox', { name: /Increase contrast/ }).uncheck(),
		'data-contrast',
		'system'
	);
	await page
		.getByRole('radio', { name: /Match system/ })
		.first()
		.check();
	await expect(html).toHaveAttribute('data-theme', 'system');
	await page.emulateMedia({ colorScheme: 'dark' });
	await background('rgb(21, 22, 26)');
	await page.emulateMedia({ colorScheme: 'light' });
	await background('rgb(255, 255, 255)');
});

test('each member chooses their own theme for a conversation', async ({ browser }) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	const bob = await personAt(browser, persona('bob'), 'desktop');
	const room = await createRoom(alice, 'Themed room');
	await bob.goto(room);
	await bob.getByRole('button', { name: 'Join room' }).click();
	await expectConnected(bob);

	await roomAction(alice, 'Chat theme');
	await expect(alice.getByRole('heading', { name: 'Chat theme for Themed room' })).toBeVisible();
	await alice.getByRole('radio', { name: 'Teal' }).check();
	await alice.getByRole('radio', { name: 'Dots' }).check();
	await alice.getByRole('button', { name: 'Save theme' }).click();
	await expect(alice).toHaveURL(at(room));

	const frame = (page: typeof alice) => page.locator('.room-frame');
	await expect(frame(alice)).toHaveAttribute('data-room-accent', 'teal');
	await expect(frame(alice)).toHaveAttribute('data-room-bg', 'dots');
	await alice.reload();
	await expect(frame(alice)).toHaveAttribute('data-room-accent', 'teal');
	// Bob's view of the same room is unchanged.
	await bob.reload();
	await expect(frame(bob)).not.toHaveAttribute('data-room-accent', /.+/);

	// A forged choice is refused and changes nothing.
	const response = await alice.request.post(`${room}/theme?/save`, {
		form: { accent: 'hotpink', background: 'dots' },
		headers: { origin: new URL(alice.url()).origin, accept: 'application/json' }
	});
	expect(await response.text()).toContain('Choose one of the accents shown.');
	await alice.reload();
	await expect(frame(alice)).toHaveAttribute('data-room-accent', 'teal');

	await alice.goto(`${room}/theme`);
	await alice.getByRole('button', { name: 'Use the default' }).click();
	await expect(alice).toHaveURL(at(room));
	await expect(frame(alice)).not.toHaveAttribute('data-room-accent', /.+/);
});

test('a failed action shows a toast with a way to try again', async ({ browser }) => {
	const alice = await personAt(browser, persona('alice'), 'desktop');
	await alice.getByLabel('New room').fill('Offline room');
	await alice.context().setOffline(true);
	await alice.getByRole('button', { name: 'Create room' }).click();
	const toast = alice.getByRole('alert').filter({ hasText: 'Creating the room failed' });
	await expect(toast).toContainText('Check your connection');
	// The page stays as it was, with what was typed.
	await expect(alice.getByLabel('New room')).toHaveValue('Offline room');

	await alice.context().setOffline(false);
	await toast.getByRole('button', { name: 'Try again' }).click();
	await expect(alice.getByRole('heading', { name: 'Offline room', level: 1 })).toBeVisible();
});
