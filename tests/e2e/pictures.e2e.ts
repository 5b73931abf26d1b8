// Profile pictures and room icons, as people set them: choose an image, place and zoom the square,
// save; another person sees the picture where the first one appears (their messages, the member
// list, the sidebar's row of the room) after navigating to it; removing it brings initials back.
import { expect, test } from './fixtures';
import type { Locator, Page } from '@playwright/test';
import { drawPng } from './files-support';
import { expectConnected, message, peopleInRoom, roomAction, say } from './realtime-support';
import { expectNoSeriousA11yViolations } from './ui-support';

/**
 * Opens the room from the sidebar of the home page: a page load, then a navigation in the app,
 * which brings the room's data (and its pictures) afresh.
 */
async function openRoom(page: Page, roomId: string) {
	await page.goto('/');
	await page.locator(`a[data-conversation="${roomId}"]`).click();
	await expectConnected(page);
}

/** The picture an avatar shows, if any. */
const pictureIn = (avatar: Locator) => avatar.locator('img[src^="/files/"]');

/** Chooses `png` in a picture chooser, moves and zooms the square by keyboard, and saves it. */
async function choosePicture(page: Page, label: string, png: Buffer, axe = false) {
	await page.getByLabel(`Choose a file for the ${label.toLowerCase()}`).setInputFiles({
		name: 'me.png',
		mimeType: 'image/png',
		buffer: png
	});
	const preview = page.getByRole('slider', { name: `${label} position` });
	await expect(preview).toBeVisible();
	await preview.focus();
	await expect(preview).toHaveAttribute('aria-valuetext', '50% across, 50% down');
	await preview.press('ArrowRight');
	await preview.press('+');
	await expect(preview).toHaveAttribute('aria-valuetext', '55% across, 50% down');
	await expect(page.getByRole('slider', { name: 'Zoom' })).toHaveValue('1.25');
	if (axe) await expectNoSeriousA11yViolations(page, 'the profile picture chooser');
	await page.getByRole('button', { name: `Save ${label.toLowerCase()}` }).click();
	await expect(page.getByRole('status').filter({ hasText: `${label} saved.` })).toBeAttached();
}

test('a profile picture and a group icon show for the others, and initials come back', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Picture club');
	const roomPath = new URL(alice.page.url()).pathname;
	const roomId = roomPath.split('/').pop()!;
	await say(alice.page, 'Hello with a face');
	await expect(message(bob.page, 'Hello with a face')).toBeVisible();

	// Alice sets her picture: a real PNG, cropped to a square in the page.
	await alice.page.goto('/settings/profile');
	await choosePicture(alice.page, 'Profile picture', await drawPng(alice.page, 400, 300), true);
	const own = alice.page.getByRole('img', { name: `Your avatar: ${alice.who.displayName}` });
	await expect(pictureIn(own)).toBeVisible();
	const src = await pictureIn(own).getAttribute('src');
	// What was uploaded is the square the browser made, not the original.
	const size = await alice.page.evaluate(async (url) => {
		const bitmap = await createImageBitmap(await (await fetch(url)).blob());
		return [bitmap.width, bitmap.height];
	}, src!);
	expect(size).toEqual([256, 256]);

	// Bob opens the room again (a navigation: the page's data brings the pictures).
	await openRoom(bob.page, roomId);
	await expect(
		message(bob.page, 'Hello with a face').locator(`.avatar img[src="${src}"]`)
	).toBeVisible();
	await roomAction(bob.page, 'Members');
	const alicesRow = bob.page
		.getByRole('complementary', { name: 'Members' })
		.getByRole('listitem')
		.filter({ hasText: alice.who.displayName });
	await expect(alicesRow.locator(`img[src="${src}"]`)).toBeVisible();

	// Alice, the room's owner, gives it an icon from its details page.
	await alice.page.goto(`${roomPath}/details`);
	await choosePicture(alice.page, 'Room icon', await drawPng(alice.page, 300, 500, '#0a0', '#00a'));
	const icon = pictureIn(alice.page.getByRole('img', { name: 'Current room icon' }));
	await expect(icon).toBeVisible();
	const iconSrc = await icon.getAttribute('src');

	// Bob sees it in his sidebar's row of the room and in the room's header.
	await openRoom(bob.page, roomId);
	const row = bob.page.locator(`a[data-conversation="${roomId}"]`);
	await expect(row.locator(`img[src="${iconSrc}"]`)).toBeVisible();
	await expect(bob.page.locator(`.room-header img[src="${iconSrc}"]`)).toBeVisible();

	// Removing both: initials again, for Bob too, and the old pictures are served to no one.
	await alice.page.getByRole('button', { name: 'Remove room icon' }).click();
	await expect(
		alice.page.getByRole('status').filter({ hasText: 'Room icon removed.' })
	).toBeAttached();
	await alice.page.goto('/settings/profile');
	await alice.page.getByRole('button', { name: 'Remove profile picture' }).click();
	await expect(pictureIn(own)).toHaveCount(0);
	await expect(own).toHaveText(/^[A-Z]{1,2}$/);

	await openRoom(bob.page, roomId);
	await expect(row.locator('.avatar')).toBeVisible();
	await expect(row.locator('img')).toHaveCount(0);
	await expect(message(bob.page, 'Hello with a face').locator('.avatar img')).toHaveCount(0);
	const gone = await bob.page.evaluate(
		async (urls) => Promise.all(urls.map(async (url) => (await fetch(url)).status)),
		[src!, iconSrc!]
	);
	expect(gone).toEqual([404, 404]);
});
