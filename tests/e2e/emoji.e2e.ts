// Emoji are drawn from the pictures the app ships (static/emoji/, from Twemoji), not from the
// system's fonts, which on many Linux desktops have no colour emoji: the reactions, the reaction
// picker and the composer's picker. The character stays what is read and what is copied.
import { expect, test } from './fixtures';
import type { Locator, Page } from '@playwright/test';
import { message, peopleInRoom, say, timeline } from './realtime-support';
import { expectNoSeriousA11yViolations } from './ui-support';

/** Every request the page makes to another host than the app's: there must be none. */
function watchForeignRequests(page: Page): string[] {
	const foreign: string[] = [];
	page.on('request', (request) => {
		const url = new URL(request.url());
		if (/^(https?|wss?):$/.test(url.protocol) && url.hostname !== 'localhost') {
			foreign.push(url.href);
		}
	});
	return foreign;
}

/** `emoji` is shown as the app's own picture of it, loaded, with the character as its text. */
async function expectDrawn(where: Locator, emoji: string): Promise<void> {
	const picture = where.locator('img').filter({ visible: true });
	await expect(picture).toHaveCount(1);
	await expect(picture).toHaveAttribute('alt', emoji);
	await expect(picture).toHaveAttribute('src', /^\/emoji\/[0-9a-f-]+\.svg$/);
	await expect
		.poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
		.toBe(true);
}

test('reactions and the reaction picker show the shipped pictures, and reacting still works', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Emoji pictures');
	const foreign = [...watchForeignRequests(alice.page), ...watchForeignRequests(bob.page)];
	await say(alice.page, 'Lunch at noon?');

	const item = message(bob.page, 'Lunch at noon');
	await item.hover();
	await item.getByRole('button', { name: 'Add reaction' }).click();
	const choices = item.getByRole('group', { name: 'Choose a reaction' });
	for (const emoji of ['👍', '❤️', '🎉']) {
		await expectDrawn(choices.getByRole('button', { name: `React with ${emoji}` }), emoji);
	}
	await expectNoSeriousA11yViolations(bob.page, 'reaction picker');
	await choices.getByRole('button', { name: 'React with 🎉' }).click();

	// Alice sees Bob's reaction as the picture, named by the character.
	const reaction = message(alice.page, 'Lunch at noon').getByRole('button', { name: /^🎉 1/ });
	await expect(reaction).toBeVisible();
	await expectDrawn(reaction, '🎉');
	await expectNoSeriousA11yViolations(alice.page, 'reactions');

	// Copying the reactions copies the character, not a picture.
	await alice.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
	await message(alice.page, 'Lunch at noon')
		.getByRole('list', { name: 'Reactions' })
		.evaluate((list) => getSelection()!.selectAllChildren(list));
	await alice.page.keyboard.press('ControlOrMeta+C');
	expect(await alice.page.evaluate(() => navigator.clipboard.readText())).toContain('🎉');

	// Alice adds hers by clicking the picture.
	await reaction.click();
	await expect(
		message(bob.page, 'Lunch at noon').getByRole('button', { name: /^🎉 2/ })
	).toBeVisible();
	expect(foreign).toEqual([]);
});

test("the composer's emoji picker shows the shipped pictures and inserts the character", async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Emoji picker');
	const foreign = watchForeignRequests(alice.page);
	await alice.page.getByRole('button', { name: 'Insert emoji' }).click();
	const picker = alice.page.getByRole('dialog', { name: 'Emoji' });
	const grid = picker.getByRole('group', { name: 'Emoji' });
	await expectDrawn(grid.getByRole('button').first(), '😀');
	await expectDrawn(grid.getByRole('button', { name: 'tada' }), '🎉');
	await expectNoSeriousA11yViolations(alice.page, 'emoji picker');

	await grid.getByRole('button', { name: 'tada' }).click();
	await expect(picker).toHaveCount(0);
	const box = alice.page.getByRole('textbox', { name: 'Message' });
	await expect(box).toHaveValue('🎉');
	await box.press('Enter');
	// In the timeline too the emoji is the shipped picture, the character its name.
	const party = timeline(bob.page).getByRole('img', { name: '🎉' });
	await expect(party).toHaveCount(1);
	await expect(party).toHaveAttribute('src', '/emoji/1f389.svg');
	expect(foreign).toEqual([]);
});
