import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import {
	expectConnected,
	message,
	peopleInRoom,
	say,
	sendMany,
	timeline
} from './realtime-support';
import { persona } from './support';
import { expectNoSeriousA11yViolations, personAt } from './ui-support';

const DAY_MS = 86_400_000;

/**
 * The words of each message whose time can be seen now. A time can be in the page yet transparent
 * (inside a run, until asked for), which `toBeVisible` does not tell apart.
 */
function withTimeShown(page: Page): Promise<(string | undefined)[]> {
	return timeline(page)
		.locator('li[data-seq]')
		.evaluateAll((items) =>
			items
				.filter((item) => item.querySelector('time')?.checkVisibility({ opacityProperty: true }))
				.map((item) => item.querySelector('.body')?.textContent?.trim())
		);
}

test('messages are grouped by author under a separator for their day', async ({ browser }) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Grouping');
	await say(alice.page, 'First from Alice');
	await say(alice.page, 'Second from Alice');
	await say(bob.page, 'Bob answers');
	await say(alice.page, 'Alice again');

	const log = timeline(bob.page);
	await expect(log.locator('li[data-seq] .body')).toHaveText([
		'First from Alice',
		'Second from Alice',
		'Bob answers',
		'Alice again'
	]);
	// The author is named once per run of messages, not on every one, and never to themselves.
	await expect(log.locator('li[data-seq] .author')).toHaveText(['Alice', 'Alice']);
	await expect(message(bob.page, 'Second from Alice').locator('.author')).toHaveCount(0);
	await expect(log.getByRole('separator', { name: 'Today' })).toHaveCount(1);
	await expect(log.getByRole('separator', { name: 'Today' })).toBeVisible();

	// A day later the same messages sit under "Yesterday".
	await bob.page.clock.setFixedTime(Date.now() + DAY_MS);
	await bob.page.reload();
	await expect(timeline(bob.page).getByRole('separator', { name: 'Yesterday' })).toBeVisible();
	await expect(timeline(bob.page).getByRole('separator', { name: 'Today' })).toHaveCount(0);
});

test('a run of messages names its author once, never to themselves, and shows its time once', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Runs');
	await say(alice.page, 'One');
	await say(alice.page, 'Two');
	await say(alice.page, 'Three');
	await expect(message(bob.page, 'Three')).toBeVisible();
	await say(bob.page, 'Four');
	await say(bob.page, 'Five');
	for (const { page } of [alice, bob]) {
		await expect(message(page, 'Five')).toBeVisible();
		await page.mouse.move(0, 0);
	}

	// My own run is on the right, unnamed; the other person's is named once, at its start.
	await expect(timeline(alice.page).locator('.author')).toHaveText(['Bob']);
	await expect(timeline(bob.page).locator('.author')).toHaveText(['Alice']);
	// A screen reader still hears who wrote each one.
	await expect(message(bob.page, 'Two')).toContainText('Alice:');
	await expect(message(alice.page, 'Two')).toContainText('You:');
	// One time per run, at its last message.
	for (const { page } of [alice, bob]) {
		await expect.poll(() => withTimeShown(page)).toEqual(['Three', 'Five']);
	}
});

test('every message’s exact time shows on hover, on keyboard focus and on a tap', async ({
	browser
}) => {
	test.setTimeout(Math.max(test.info().timeout, 120_000));
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Exact times');
	await say(alice.page, 'Morning');
	await say(alice.page, 'Coffee?');
	await say(alice.page, 'Or tea');
	await expect(message(bob.page, 'Or tea')).toBeVisible();
	await bob.page.mouse.move(0, 0);
	await expect.poll(() => withTimeShown(bob.page)).toEqual(['Or tea']);

	// Its time's tooltip (and description, for a screen reader) gives the full date and time.
	const first = message(bob.page, 'Morning');
	const time = first.locator('time');
	const exact = await time.evaluate((el) =>
		new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' }).format(
			new Date(el.getAttribute('datetime')!)
		)
	);
	expect(exact).toContain(String(new Date().getFullYear()));
	const link = first.getByRole('link').filter({ has: bob.page.locator('time') });
	await expect(link).toHaveAttribute('title', exact);
	await expect(link).toHaveAccessibleDescription(exact);

	await first.hover();
	await expect.poll(() => withTimeShown(bob.page)).toEqual(['Morning', 'Or tea']);
	for (const colorScheme of ['light', 'dark'] as const) {
		await bob.page.emulateMedia({ colorScheme });
		await expectNoSeriousA11yViolations(bob.page, `room, a time shown in a run (${colorScheme})`);
	}
	await bob.page.mouse.move(0, 0);
	await expect.poll(() => withTimeShown(bob.page)).toEqual(['Or tea']);

	// The keyboard reaches each message through its time, and from there its actions.
	await link.focus();
	await expect.poll(() => withTimeShown(bob.page)).toEqual(['Morning', 'Or tea']);
	await bob.page.keyboard.press('Tab');
	await expect(
		first.getByRole('toolbar', { name: 'Message actions' }).getByRole('button').first()
	).toBeFocused();
	await bob.page.getByRole('textbox', { name: 'Message' }).focus();
	await expect.poll(() => withTimeShown(bob.page)).toEqual(['Or tea']);

	// On a phone, a tap on a message shows its time.
	const carol = await personAt(browser, persona('carol'), 'phone');
	await carol.goto(alice.page.url());
	await carol.getByRole('button', { name: 'Join room' }).click();
	await expectConnected(carol);
	await expect(message(carol, 'Or tea')).toBeVisible();
	await expect.poll(() => withTimeShown(carol)).toEqual(['Or tea']);
	await message(carol, 'Coffee?').locator('.body').tap();
	await expect.poll(() => withTimeShown(carol)).toEqual(['Coffee?', 'Or tea']);
	// The tap only shows: the actions it reveals are not under the finger.
	await expect(carol.getByText('Replying to')).toHaveCount(0);
});

test('a reader scrolled up is offered a jump to the latest, with how many arrived', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Jumping');
	await sendMany(
		alice.page,
		Array.from({ length: 40 }, (_, i) => `Line ${i + 1}`)
	);
	const log = timeline(bob.page);
	await expect(message(bob.page, /^Line 40$/)).toBeInViewport();
	const jump = bob.page.getByRole('button', { name: /Jump to latest/ });
	await expect(jump).toHaveCount(0);

	await log.evaluate((el) => el.scrollTo({ top: 0 }));
	await expect(jump).toBeVisible();
	await say(alice.page, 'Are you there?');
	await say(alice.page, 'Hello?');
	await expect(jump).toHaveAccessibleName(/2 new messages/);
	await expect(message(bob.page, 'Hello?')).not.toBeInViewport();

	await jump.click();
	await expect(message(bob.page, 'Hello?')).toBeInViewport();
	await expect(jump).toHaveCount(0);
});

test('Up in an empty composer edits my last message, and Escape leaves it alone', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Editing');
	await say(alice.page, 'See you at nine');
	await say(bob.page, 'Great');
	await say(alice.page, 'Bring the mpa');
	const box = alice.page.getByRole('textbox', { name: 'Message' });
	await expect(message(alice.page, 'Bring the mpa')).toHaveCount(1);

	await box.press('ArrowUp');
	await expect(box).toHaveValue('Bring the mpa');
	await expect(alice.page.getByText('Editing your message')).toBeVisible();
	await box.press('Escape');
	await expect(box).toHaveValue('');
	await expect(alice.page.getByText('Editing your message')).toHaveCount(0);

	await box.press('ArrowUp');
	await box.fill('Bring the map');
	await box.press('Enter');
	await expect(message(bob.page, 'Bring the map')).toContainText('(edited)');
	await expect(message(bob.page, 'Bring the mpa')).toHaveCount(0);
	await expect(box).toHaveValue('');
});

test('a draft is kept per room across a reload', async ({ browser }) => {
	const [alice] = await peopleInRoom(browser, ['alice'], 'Drafts');
	const box = alice.page.getByRole('textbox', { name: 'Message' });
	await box.fill('Half a thought');
	await alice.page.reload();
	await expect(box).toHaveValue('Half a thought');

	// Another room has a draft of its own.
	const drafts = alice.page.url();
	await alice.page.goto('/');
	await alice.page.getByLabel('New room').fill('Elsewhere');
	await alice.page.getByRole('button', { name: 'Create room' }).click();
	await expect(alice.page.getByRole('heading', { name: 'Elsewhere', level: 1 })).toBeVisible();
	await expect(box).toHaveValue('');
	await alice.page.goto(drafts);
	await expect(box).toHaveValue('Half a thought');

	// Sending it clears it for good.
	await box.press('Enter');
	await expect(message(alice.page, 'Half a thought')).toHaveCount(1);
	await alice.page.reload();
	await expect(box).toHaveValue('');
});

test('typing @ offers the room members, and choosing one inserts their username', async ({
	browser
}) => {
	const [alice, bob, carol] = await peopleInRoom(browser, ['alice', 'bob', 'carol'], 'Mentions');
	// Bob and Carol joined after Alice's page loaded: it knows them from the room's presence.
	const box = alice.page.getByRole('textbox', { name: 'Message' });
	await box.pressSequentially('Thanks @');
	const list = alice.page.getByRole('listbox', { name: 'People to mention' });
	await expect(list.getByRole('option')).toHaveText([
		new RegExp(`^Bob\\s*@${bob.who.username}$`),
		new RegExp(`^Carol\\s*@${carol.who.username}$`)
	]);
	await box.pressSequentially('c');
	await expect(list.getByRole('option')).toHaveText([/^Carol/]);
	await box.press('Escape');
	await expect(list).toHaveCount(0);

	await box.press('Backspace');
	await box.pressSequentially('b');
	await expect(list.getByRole('option', { selected: true })).toContainText('Bob');
	await box.press('Enter');
	await expect(box).toHaveValue(`Thanks @${bob.who.username} `);
	await expect(list).toHaveCount(0);

	await box.pressSequentially('and @');
	await box.press('ArrowDown');
	await expect(list.getByRole('option', { selected: true })).toContainText('Carol');
	await box.press('Tab');
	await expect(box).toHaveValue(`Thanks @${bob.who.username} and @${carol.who.username} `);
	await box.press('Enter');
	await expect(
		message(bob.page, 'Thanks').locator(`.mention[data-username="${bob.who.username}"]`)
	).toHaveClass(/mention-self/);

	// A username typed out in full leaves nothing to choose: Enter sends.
	await box.pressSequentially(`Over to you @${carol.who.username}`);
	await expect(list).toHaveCount(0);
	await box.press('Enter');
	await expect(message(carol.page, 'Over to you')).toHaveCount(1);
});

test('the emoji picker inserts at the caret, and shortcodes show as emoji', async ({ browser }) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Emoji');
	const box = alice.page.getByRole('textbox', { name: 'Message' });
	await box.fill('Sun today');
	// The caret after "Sun".
	await box.evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(3, 3));
	await alice.page.getByRole('button', { name: 'Insert emoji' }).click();
	const picker = alice.page.getByRole('dialog', { name: 'Emoji' });
	await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('sunny');
	await picker.getByRole('button', { name: 'sunny' }).click();
	await expect(picker).toHaveCount(0);
	await expect(box).toHaveValue('Sun☀️ today');
	await expect(box).toBeFocused();
	await box.press('Enter');
	// Emoji in words are drawn from the shipped pictures, the character as their name.
	const sunny = message(bob.page, 'Sun today');
	await expect(sunny).toHaveCount(1);
	const sun = sunny.getByRole('img', { name: '☀️' });
	await expect(sun).toHaveAttribute('src', '/emoji/2600.svg');
	await expect
		.poll(() => sun.evaluate((img: HTMLImageElement) => img.naturalWidth))
		.toBeGreaterThan(0);

	await say(alice.page, 'Done :tada: :not_an_emoji:');
	const done = message(bob.page, 'Done');
	await expect(done).toContainText('Done :not_an_emoji:');
	await expect(done.getByRole('img', { name: '🎉' })).toBeVisible();
});

test('Shift+Esc marks the open room read, so its unread count is cleared', async ({ browser }) => {
	test.setTimeout(120_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Catching up');
	const room = new URL(alice.page.url()).pathname;
	await bob.page.goto('/');
	await sendMany(
		alice.page,
		Array.from({ length: 60 }, (_, i) => `Update ${i + 1}`)
	);
	const row = bob.page
		.getByRole('navigation', { name: 'Conversations' })
		.getByRole('link', { name: /Catching up/ });

	// Bob opens the room at its first message: he sees only the top, so most stays unread.
	const unreadAfterVisit = async () => {
		await bob.page.goto('/');
		return row
			.locator('.badge')
			.textContent({ timeout: 2000 })
			.catch(() => null);
	};
	await bob.page.goto(`${room}?m=1`);
	await expect(message(bob.page, /^Update 1$/)).toBeInViewport();
	await expect(message(bob.page, /^Update 60$/)).toHaveCount(0);
	await expect.poll(unreadAfterVisit, { timeout: 20_000 }).toMatch(/^\d+$/);
	expect(Number(await row.locator('.badge').textContent())).toBeGreaterThan(20);

	await bob.page.goto(`${room}?m=1`);
	await expectConnected(bob.page);
	await expect(message(bob.page, /^Update 1$/)).toBeInViewport();
	await bob.page.keyboard.press('Shift+Escape');
	// Gone from the room's own count at once, and from the sidebar once the room has stored it.
	await expect(bob.page.getByRole('button', { name: /Jump to latest/ })).not.toHaveAccessibleName(
		/new message/
	);
	await expect.poll(unreadAfterVisit, { timeout: 20_000 }).toBeNull();
	await expect(row).not.toContainText(/unread/);
});

test('times read in the reader’s own time zone, not the server’s', async ({ browser }) => {
	// UTC+14: a time rendered on the server (UTC) would be fourteen hours off.
	const page = await personAt(browser, persona('kiri'), 'desktop', {
		timezoneId: 'Pacific/Kiritimati'
	});
	await page.getByLabel('New room').fill('Line islands');
	await page.getByRole('button', { name: 'Create room' }).click();
	await expectConnected(page);
	await say(page, 'Good morning from the future');
	await page.reload();

	const shown = message(page, 'Good morning from the future').locator('time');
	// The reader's locale decides the clock: no leading zero where it has 12 hours.
	const format = (timeZone?: string) =>
		shown.evaluate((el, timeZone) => {
			const { hourCycle } = new Intl.DateTimeFormat(undefined, {
				hour: 'numeric'
			}).resolvedOptions();
			const hour = hourCycle === 'h11' || hourCycle === 'h12' ? 'numeric' : '2-digit';
			return new Intl.DateTimeFormat(undefined, { hour, minute: '2-digit', timeZone }).format(
				new Date(el.getAttribute('datetime')!)
			);
		}, timeZone);
	const local = await format();
	expect(local).not.toBe(await format('UTC'));
	await expect(shown).toHaveText(local);

	// The sidebar's row learns of the message from D1, which the room copies it to within seconds.
	await expect(async () => {
		await page.reload();
		await expect(page.getByRole('link', { name: /Line islands/ }).locator('time')).toHaveText(
			local,
			{ timeout: 1000 }
		);
	}).toPass();
});

test('a message that arrives rises into place, and does not move for a reader who asked for less motion', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Motion');
	// For each message added to Bob's timeline: is an animation running on it a frame later?
	const watch = () =>
		bob.page.evaluate(() => {
			const seen: boolean[] = [];
			(window as unknown as { arrivals: boolean[] }).arrivals = seen;
			new MutationObserver((records) => {
				for (const record of records) {
					for (const node of record.addedNodes) {
						if (!(node instanceof HTMLElement) || !node.matches('li[data-seq]')) continue;
						requestAnimationFrame(() => seen.push(node.getAnimations().length > 0));
					}
				}
			}).observe(document.querySelector('[role="log"]')!, { childList: true, subtree: true });
		});
	const arrivals = () =>
		bob.page.evaluate(() => (window as unknown as { arrivals: boolean[] }).arrivals);

	await watch();
	await say(alice.page, 'Watch this');
	await expect(message(bob.page, 'Watch this')).toBeVisible();
	await expect.poll(arrivals).toEqual([true]);

	await bob.page.emulateMedia({ reducedMotion: 'reduce' });
	await bob.page.reload();
	await expectConnected(bob.page);
	await watch();
	await say(alice.page, 'And this, calmly');
	await expect(message(bob.page, 'And this, calmly')).toBeVisible();
	await expect.poll(arrivals).toEqual([false]);
});
