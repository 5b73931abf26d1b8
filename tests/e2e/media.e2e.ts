// Shared files as the reader sees them: pictures inline at their final size (their placeholder
// first), the viewer (keyboard, focus, download), a document's chip, and the room's "Media and
// files" panel. Files go up through the real upload route and messages through the room's real
// socket (files-support.ts), not through the composer.
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { expectConnected, peopleInRoom, timeline } from './realtime-support';
import { expectNoSeriousA11yViolations } from './ui-support';
import {
	drawPng,
	flatPlaceholder,
	PDF,
	roomIdOf,
	sendFiles,
	uploadFile,
	type UploadedFile
} from './files-support';

/** Holds every inline file request of a page until `release` is called. */
async function holdFiles(page: Page): Promise<() => void> {
	let release!: () => void;
	const released = new Promise<void>((resolve) => (release = resolve));
	await page.route(
		(url) => url.pathname.startsWith('/files/') && !url.searchParams.has('download'),
		async (route) => {
			await released;
			await route.continue();
		}
	);
	return release;
}

test('pictures show at their final size, open in the viewer, and are listed with the files', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'] as const, 'Holiday photos');
	const release = await holdFiles(bob.page);

	const placeholder = flatPlaceholder(100, 50, [255, 122, 24]);
	const sunset = await uploadFile(alice.page, await drawPng(alice.page, 400, 200), {
		name: 'sunset.png',
		width: 400,
		height: 200,
		placeholder
	});
	const beach = await uploadFile(alice.page, await drawPng(alice.page, 120, 120, '#0ea5e9'), {
		name: 'beach.png',
		width: 120,
		height: 120
	});
	const hills = await uploadFile(alice.page, await drawPng(alice.page, 90, 160, '#16a34a'), {
		name: 'hills.png',
		width: 90,
		height: 160
	});
	const plan = await uploadFile(alice.page, PDF, { name: 'plan.pdf' });
	await sendFiles(alice.page, [sunset]);
	await sendFiles(alice.page, [beach, hills], 'Two more');
	await sendFiles(alice.page, [plan], 'The plan');

	// Bob sees the picture at once, at its final size, before a byte of it has arrived: 400×200
	// scaled into the 320-pixel box, the placeholder behind it. No caption, no empty paragraph.
	const log = timeline(bob.page);
	const view = (file: UploadedFile) => log.getByRole('button', { name: `View ${file.name}` });
	await expect(view(sunset)).toBeVisible();
	const box = (await view(sunset).boundingBox())!;
	expect(box.width).toBeCloseTo(320, 0);
	expect(box.height).toBeCloseTo(160, 0);
	await expect(view(sunset)).toHaveCSS('background-image', /^url\("data:image\/png;base64,/);
	const sunsetItem = log.locator('li[data-seq]').filter({ has: view(sunset) });
	await expect(sunsetItem.locator('.body')).toHaveCount(0);
	// Two pictures of one message make a grid of square cells.
	const cell = (await view(beach).boundingBox())!;
	expect(cell.width).toBeCloseTo(cell.height, 0);
	expect((await view(hills).boundingBox())!.y).toBeCloseTo(cell.y, 0);

	release();
	const image = view(sunset).locator('img');
	await expect(image).toHaveJSProperty('naturalWidth', 400);
	await expect(image).toHaveAttribute('alt', 'sunset.png');
	// Loaded, it keeps its size: the timeline did not move.
	expect((await view(sunset).boundingBox())!.height).toBeCloseTo(box.height, 0);

	// The document is a chip with its size, which downloads it.
	const chip = log.getByRole('link', { name: /plan\.pdf/ });
	await expect(chip).toContainText(`PDF · ${plan.size} bytes`);
	await expect(chip).toHaveAttribute('href', `/files/${plan.id}?download=1`);

	// The viewer: opened by the picture, named by it, arrows step through the room's pictures.
	await view(sunset).click();
	const viewer = bob.page.getByRole('dialog', { name: 'sunset.png' });
	await expect(viewer).toBeVisible();
	await expect(viewer.getByText('1 of 3')).toBeVisible();
	await expect(viewer.getByRole('img', { name: 'sunset.png' })).toHaveJSProperty(
		'naturalWidth',
		400
	);
	const download = viewer.getByRole('link', { name: 'Download' });
	await expect(download).toHaveAttribute('href', `/files/${sunset.id}?download=1`);
	const downloaded = await bob.page.request.get(`/files/${sunset.id}?download=1`);
	expect(downloaded.headers()['content-disposition']).toMatch(/^attachment/);
	await expectNoSeriousA11yViolations(bob.page, 'the image viewer');

	await bob.page.keyboard.press('ArrowRight');
	await expect(bob.page.getByRole('dialog', { name: 'beach.png' })).toBeVisible();
	await expect(bob.page.getByRole('dialog').getByText('2 of 3')).toBeVisible();
	await bob.page.getByRole('dialog').getByRole('button', { name: 'Next' }).click();
	await expect(bob.page.getByRole('dialog', { name: 'hills.png' })).toBeVisible();
	await bob.page.keyboard.press('ArrowRight');
	await expect(bob.page.getByRole('dialog', { name: 'sunset.png' })).toBeVisible();
	await bob.page.keyboard.press('ArrowLeft');
	await expect(bob.page.getByRole('dialog', { name: 'hills.png' })).toBeVisible();
	await bob.page.getByRole('dialog').getByRole('button', { name: 'Previous' }).click();
	await expect(bob.page.getByRole('dialog').getByText('2 of 3')).toBeVisible();

	// Escape closes it, and focus is back on the picture it showed last.
	await bob.page.keyboard.press('Escape');
	await expect(bob.page.getByRole('dialog')).toHaveCount(0);
	await expect(view(beach)).toBeFocused();

	// The room's media and files, newest first, each with who shared it.
	const roomId = roomIdOf(bob.page);
	const rows = bob.page
		.getByRole('list', { name: 'Shared files, newest first' })
		.getByRole('listitem');
	// The list reads D1, which the room's flush fills moments after a message is sent.
	await expect(async () => {
		await bob.page.goto(`/rooms/${roomId}/details?tab=media`);
		await expect(rows).toHaveCount(4, { timeout: 1000 });
	}).toPass();
	await expect(rows.locator('a.name')).toHaveText([
		'plan.pdf',
		'hills.png',
		'beach.png',
		'sunset.png'
	]);
	await expect(rows.first()).toContainText(`File · ${plan.size} bytes · Alice`);
	await expect(rows.first().getByRole('link', { name: 'plan.pdf', exact: true })).toHaveAttribute(
		'href',
		`/files/${plan.id}?download=1`
	);
	await expect(rows.last().getByRole('link', { name: 'sunset.png', exact: true })).toHaveAttribute(
		'href',
		`/files/${sunset.id}`
	);
	// One page: no link to older files.
	await expect(bob.page.getByRole('link', { name: 'Older files' })).toHaveCount(0);
	await expectNoSeriousA11yViolations(bob.page, 'the media and files panel');

	// "Show in chat" opens the message in the timeline.
	await rows
		.last()
		.getByRole('link', { name: /Show in chat/ })
		.click();
	await expectConnected(bob.page);
	await expect(view(sunset)).toBeVisible();
	await alice.page.context().close();
	await bob.page.context().close();
});
