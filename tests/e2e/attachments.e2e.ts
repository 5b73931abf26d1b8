// Sending files from the composer, as people do it: the button, a drop on the room, a paste, a
// voice note; each file's progress and cancel; refusals; and a message with files written offline
// that survives a reload and goes out once when the network is back; a large file, in parts, that
// resumes where it stopped when the connection drops.
import { existsSync } from 'node:fs';
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { expectConnected, peopleInRoom, setOffline, timeline } from './realtime-support';
import { png } from './ui-support';

// Chromium's fake microphone, and no permission prompt, for the voice note. The rest of the
// project's launch options (the system's Chromium, where there is one) stay as they are.
const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) =>
	existsSync(p)
);
test.use({
	launchOptions: {
		...(systemChromium ? { executablePath: systemChromium } : {}),
		args: [
			...(systemChromium ? ['--no-sandbox', '--disable-gpu'] : []),
			'--use-fake-ui-for-media-stream',
			'--use-fake-device-for-media-stream'
		]
	}
});

const composer = (page: Page) => page.locator('form.composer');
const tray = (page: Page) => page.getByRole('list', { name: 'Files to send' });
const box = (page: Page) => page.getByRole('textbox', { name: 'Message' });

/** Drops a file made in the page onto the room, as a drag from the desktop does. */
async function dropFile(page: Page, name: string, bytes: { png?: string; size?: number }) {
	await page.evaluate(
		async ({ name, bytes }) => {
			let blob: Blob;
			if (bytes.png) {
				const canvas = document.createElement('canvas');
				canvas.width = 30;
				canvas.height = 20;
				const context = canvas.getContext('2d')!;
				context.fillStyle = bytes.png;
				context.fillRect(0, 0, 30, 20);
				blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'));
			} else {
				blob = new Blob([new Uint8Array(bytes.size ?? 1)], { type: 'application/octet-stream' });
			}
			const data = new DataTransfer();
			data.items.add(new File([blob], name, { type: blob.type }));
			const room = document.querySelector('section.room')!;
			for (const type of ['dragenter', 'dragover', 'drop']) {
				room.dispatchEvent(
					new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true })
				);
			}
		},
		{ name, bytes }
	);
}

/** The message in the timeline (not pending) with this caption. */
function sent(page: Page, caption: string) {
	return timeline(page).locator('li[data-seq]', { hasText: caption });
}

test('files go by the button, a drop and a paste, with progress, cancel and refusals', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Photos');
	const page = alice.page;

	// An upload held on the way shows its progress bar; removing it stops it.
	let release: () => void = () => undefined;
	await page.route('**/api/rooms/*/files', (route) => {
		release = () => void route.abort().catch(() => undefined);
	});
	await composer(page)
		.locator('input[type=file]')
		.setInputFiles({
			name: 'held.png',
			mimeType: 'image/png',
			buffer: await png(page, 8, 8, 'red')
		});
	const progress = tray(page).getByRole('progressbar', { name: 'Uploading held.png' });
	await expect(progress).toHaveAttribute('aria-valuenow', /^\d+$/);
	await tray(page).getByRole('button', { name: 'Remove held.png' }).click();
	await expect(tray(page)).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Send' })).toBeDisabled();
	release();
	await page.unroute('**/api/rooms/*/files');

	// By the button: the thumbnail and the upload, then Send with a caption.
	await composer(page)
		.locator('input[type=file]')
		.setInputFiles({
			name: 'sunset.png',
			mimeType: 'image/png',
			buffer: await png(page, 64, 48, 'orange')
		});
	await expect(tray(page).locator('img')).toHaveCount(1);
	await expect(tray(page)).toContainText('Uploaded');
	// By a drop on the room, and by a paste into the box.
	await dropFile(page, 'dropped.png', { png: 'blue' });
	await page.evaluate(async () => {
		const canvas = document.createElement('canvas');
		canvas.width = 10;
		canvas.height = 10;
		const blob = await new Promise<Blob>((resolve) =>
			canvas.toBlob((b) => resolve(b!), 'image/png')
		);
		const data = new DataTransfer();
		data.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
		const box = document.getElementById('composer-input')!;
		box.focus();
		box.dispatchEvent(
			new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
		);
	});
	await expect(tray(page).getByRole('listitem')).toHaveCount(3);
	await expect(tray(page).getByText('Uploaded')).toHaveCount(3);
	await box(page).fill('Three pictures');
	await box(page).press('Enter');
	await expect(tray(page)).toHaveCount(0);

	// Bob sees the message with its pictures without a reload.
	const arrived = sent(bob.page, 'Three pictures');
	await expect(arrived).toHaveCount(1);
	await expect(arrived.locator('img[src^="/files/"]')).toHaveCount(3);
	await expect(sent(page, 'Three pictures')).toHaveCount(1);

	// Refused: a file over the limit (said with the limit) and one whose bytes are not allowed.
	await dropFile(page, 'huge.bin', { size: 25 * 1024 * 1024 + 1 });
	await expect(tray(page).getByRole('listitem').filter({ hasText: 'huge.bin' })).toContainText(
		'25 MB'
	);
	await composer(page)
		.locator('input[type=file]')
		.setInputFiles({
			name: 'page.png',
			mimeType: 'image/png',
			buffer: Buffer.from('<!doctype html><script>alert(1)</script>')
		});
	const refused = tray(page).getByRole('listitem').filter({ hasText: 'page.png' });
	await expect(refused.locator('.error')).toBeVisible();
	await box(page).fill('Not these');
	await box(page).press('Enter');
	await expect(page.locator('#composer-error')).toContainText('could not be uploaded');
	await tray(page).getByRole('button', { name: 'Remove huge.bin' }).click();
	await tray(page).getByRole('button', { name: 'Remove page.png' }).click();
	await expect(tray(page)).toHaveCount(0);
});

test('a message with a file written offline survives a reload and is sent once', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Offline photos');
	const page = alice.page;
	const room = page.url();
	await setOffline(page, true);
	await composer(page)
		.locator('input[type=file]')
		.setInputFiles({
			name: 'late.png',
			mimeType: 'image/png',
			buffer: await png(page, 20, 20, 'green')
		});
	await box(page).fill('Written on the train');
	await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled();
	await box(page).press('Enter');
	const pending = timeline(page).locator('li.pending', { hasText: 'Written on the train' });
	await expect(pending).toContainText('late.png');
	await expect(pending).toContainText('Waiting for a connection…');
	// The outbox holds it, its picture included, before the page goes.
	await expect
		.poll(() =>
			page.evaluate(async () => {
				// The person's own database, `parley:<their id>`, once the room has opened it.
				const found = (await indexedDB.databases()).find((d) => d.name?.startsWith('parley:'));
				if (!found?.name) return 0;
				const db = await new Promise<IDBDatabase>((resolve, reject) => {
					const req = indexedDB.open(found.name!);
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
				const all = await new Promise<{ files?: { blob: Blob }[] }[]>((resolve, reject) => {
					const req = db.transaction('outbox').objectStore('outbox').getAll();
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
				db.close();
				return all.filter((e) => e.files?.[0]?.blob instanceof Blob).length;
			})
		)
		.toBe(1);
	// A reload while offline finds no page; back online, the room opens and the outbox goes.
	await page.reload().catch(() => undefined);
	await page.context().setOffline(false);
	await page.goto(room);
	await expectConnected(page);
	await expect(sent(page, 'Written on the train')).toHaveCount(1);
	await expect(sent(bob.page, 'Written on the train')).toHaveCount(1);
	await expect(sent(bob.page, 'Written on the train').locator('img[src^="/files/"]')).toHaveCount(
		1
	);
	await expect(timeline(page).locator('li.pending')).toHaveCount(0);
	// Once only, also on the next visit.
	await page.goto(room);
	await expectConnected(page);
	await expect(sent(page, 'Written on the train')).toHaveCount(1);
});

test('a voice note is recorded, attached and sent', async ({ browser }) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Voices');
	const page = alice.page;
	await page.context().grantPermissions(['microphone']);
	await page.getByRole('button', { name: 'Record a voice note' }).click();
	const recorder = page.getByRole('group', { name: 'Voice note' });
	await expect(recorder).toContainText('Recording…');
	await expect(recorder.getByRole('timer')).toHaveText(/^0:0[1-9]$/);
	await recorder.getByRole('button', { name: 'Stop and attach' }).click();
	await expect(recorder).toHaveCount(0);
	const note = tray(page)
		.getByRole('listitem')
		.filter({ hasText: /Voice note 0:0\d\.webm/ });
	await expect(note).toContainText('Uploaded');
	await page.getByRole('button', { name: 'Send' }).click();
	await expect(
		timeline(bob.page).locator('li[data-seq] audio[aria-label^="Voice note"]')
	).toHaveCount(1);
});

test('a large file goes up in parts and resumes where it stopped when the connection drops', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Big files');
	const page = alice.page;
	const puts: string[] = [];
	page.on('request', (request) => {
		const part = /\/api\/uploads\/[^/]+\/parts\/(\d+)$/.exec(request.url());
		if (part && request.method() === 'PUT') puts.push(part[1]!);
	});
	// The connection drops as the second part starts.
	let dropped = false;
	await page.route('**/api/uploads/*/parts/2', async (route) => {
		if (dropped) return route.continue();
		dropped = true;
		await setOffline(page, true);
		await route.abort('internetdisconnected');
	});
	// Above the threshold for parts (10 MiB): a PDF by its magic number, then padding.
	const size = 11 * 1024 * 1024;
	const pdf = Buffer.alloc(size, 0x20);
	pdf.write('%PDF-1.4\n', 0, 'latin1');
	await composer(page)
		.locator('input[type=file]')
		.setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf });
	await expect.poll(() => dropped).toBe(true);
	await box(page).fill('The big report');
	await box(page).press('Enter');
	const pending = timeline(page).locator('li.pending', { hasText: 'The big report' });
	await expect(pending).toContainText('report.pdf');

	await setOffline(page, false);
	const arrived = sent(bob.page, 'The big report');
	await expect(arrived).toHaveCount(1);
	const chip = arrived.locator('a[href^="/files/"]');
	await expect(chip).toContainText('report.pdf');
	// The upload went on from the parts the server had: the first part was sent once.
	expect(puts.filter((n) => n === '1')).toHaveLength(1);
	expect(puts.filter((n) => n === '2').length).toBeGreaterThanOrEqual(2);
	const download = await bob.page.request.get((await chip.getAttribute('href'))!);
	expect((await download.body()).equals(pdf)).toBe(true);
	await expect(sent(page, 'The big report')).toHaveCount(1);
	await expect(timeline(page).locator('li.pending')).toHaveCount(0);
});
