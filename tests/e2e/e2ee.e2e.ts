// End-to-end encrypted conversations in real browsers (docs/e2ee.md): two people, three browsers
// (Alice has a laptop and a phone). What one device writes every other device in the group reads;
// a device added later reads from then on only; a removed device reads nothing more; search finds
// encrypted words on the device that read them; and the server keeps none of those words: every
// file of the test server's state (D1, the room objects' storage) is searched for them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { persona } from './support';
import { logIn } from './accounts-support';
import { befriend, openProfile } from './people-support';
import { personAt, png } from './ui-support';
import { expectConnected, message, say } from './realtime-support';

/** Words that must never reach the server in the clear (two are a file's name and its words). */
const SECRETS = [
	'oak-4417',
	'mill-5521',
	'heron-6630',
	'lantern-8802',
	'harbour-7731',
	'dawn-tide-3319'
];

/** Sets this browser up as one of the person's devices (approved at once if it is their first). */
async function setUpDevice(page: Page): Promise<void> {
	await page.goto('/settings/devices');
	await page.getByRole('button', { name: 'Set up this browser' }).click();
}

async function expectApproved(page: Page): Promise<void> {
	// A waiting browser looks every 5 s, then publishes its keys: slower with three browsers on a
	// loaded machine than the default wait.
	await expect(page.getByText('is approved: it reads your encrypted conversations.')).toBeVisible({
		timeout: 30_000
	});
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		return statSync(path).isDirectory() ? filesUnder(path) : [path];
	});
}

test('an encrypted conversation on three browsers: read where it may be, and nowhere on the server', async ({
	browser
}) => {
	// Three browsers loading the MLS code, commits racing, and a removal, on a shared 2-core machine.
	test.setTimeout(Math.max(test.info().timeout, 180_000));
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const laptop = await personAt(browser, aliceWho, 'desktop');
	const bob = await personAt(browser, bobWho, 'desktop');
	await befriend(laptop, aliceWho.displayName, bob, bobWho);
	for (const page of [laptop, bob]) {
		await setUpDevice(page);
		await expectApproved(page);
	}

	// Alice turns on encryption in their conversation; the timeline says so.
	await openProfile(laptop, bobWho);
	await laptop.getByRole('button', { name: 'Message' }).click();
	await expect(laptop).toHaveURL(/\/rooms\/[^/?#]+$/);
	const roomPath = new URL(laptop.url()).pathname;
	await laptop.goto(`${roomPath}/details?tab=encryption`);
	await laptop.getByRole('button', { name: 'Turn on end-to-end encryption' }).click();
	await laptop
		.getByRole('dialog', { name: 'Turn on end-to-end encryption?' })
		.getByRole('button', { name: 'Turn on encryption' })
		.click();
	await expect(laptop.getByText('This conversation is end-to-end encrypted.')).toBeVisible();

	await laptop.goto(roomPath);
	await bob.goto(roomPath);
	for (const page of [laptop, bob]) {
		await expectConnected(page);
		await expect(page.locator('section[data-connection] > header')).toContainText(
			'🔒 End-to-end encrypted'
		);
		await expect(message(page, 'turned on end-to-end encryption')).toBeVisible();
	}

	// Each reads the other, both ways; a line says whose devices joined the group.
	await say(laptop, `The key is under the ${SECRETS[0]}`);
	await expect(message(bob, `The key is under the ${SECRETS[0]}`)).toBeVisible({ timeout: 30_000 });
	await say(bob, `Meet me by the ${SECRETS[1]}`);
	await expect(message(laptop, `Meet me by the ${SECRETS[1]}`)).toBeVisible({ timeout: 30_000 });
	await expect(laptop.getByText(/🔒 .* added .*device/).first()).toBeVisible();

	// Files are encrypted before upload: a picture shows and a document downloads on Bob's side,
	// decrypted in his browser, with the names Alice gave them.
	await laptop.locator('form.composer input[type=file]').setInputFiles([
		{ name: 'pier.png', mimeType: 'image/png', buffer: await png(laptop, 64, 48, 'teal') },
		{
			name: `${SECRETS[4]}.txt`,
			mimeType: 'text/plain',
			buffer: Buffer.from(`The boat leaves at ${SECRETS[5]}`)
		}
	]);
	const tray = laptop.getByRole('list', { name: 'Files to send' });
	await expect(tray.getByText('Uploaded')).toHaveCount(2);
	await say(laptop, 'Two files for you');
	const withFiles = message(bob, 'Two files for you');
	await expect(withFiles).toBeVisible({ timeout: 30_000 });
	const picture = withFiles.locator('img[src^="blob:"]');
	await expect(picture).toHaveAttribute('alt', 'pier.png');
	await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);
	const chip = withFiles.getByRole('link', { name: new RegExp(SECRETS[4]!) });
	await expect(chip).toHaveAttribute('href', /^blob:/);
	const [download] = await Promise.all([bob.waitForEvent('download'), chip.click()]);
	expect(download.suggestedFilename()).toBe(`${SECRETS[4]}.txt`);
	const stream = await download.createReadStream();
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk as Buffer);
	expect(Buffer.concat(chunks).toString()).toBe(`The boat leaves at ${SECRETS[5]}`);
	// The sender sees her own files too (she cannot decrypt her own message: she kept it).
	await expect(message(laptop, 'Two files for you').locator('img[src^="blob:"]')).toHaveCount(1);

	// Alice's phone: a second browser, approved from the laptop by its code, let into the group
	// by the laptop (which is in the room), reading from then on, not before.
	const phone = await (await browser.newContext()).newPage();
	await logIn(phone, aliceWho.username, aliceWho.password);
	await expect(phone).toHaveURL(/\/$/);
	await setUpDevice(phone);
	await expect(phone.getByText('waits for approval.')).toBeVisible();
	const code = (await phone.getByText(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/).textContent())!.trim();
	const approver = await laptop.context().newPage();
	await approver.goto('/settings/devices');
	const pending = approver
		.getByRole('region', { name: 'Your devices' })
		.getByRole('listitem')
		.filter({ hasText: 'Waiting for approval' });
	await pending.getByLabel('Enter the code shown on the new device').fill(code);
	await pending.getByRole('button', { name: 'Approve' }).click();
	await expect(approver.getByText(/ is approved\.$/)).toBeVisible();
	await expectApproved(phone);

	await phone.goto(roomPath);
	await expectConnected(phone);
	await say(bob, `Only from now: the ${SECRETS[2]}`);
	for (const page of [laptop, phone]) {
		await expect(message(page, `Only from now: the ${SECRETS[2]}`)).toBeVisible({
			timeout: 40_000
		});
	}
	await expect(
		phone.getByText('Sent before this device joined the conversation', { exact: false }).first()
	).toBeVisible();
	await expect(message(phone, SECRETS[0]!)).toHaveCount(0);

	// Bob finds an encrypted message with the search box: his device searched what it decrypted.
	const search = bob.getByRole('dialog', { name: 'Search' });
	await expect(async () => {
		await bob.keyboard.press('Control+Shift+F');
		await expect(search).toBeVisible({ timeout: 1000 });
	}).toPass();
	await search
		.getByRole('searchbox', { name: 'Search messages, people and rooms' })
		.fill(SECRETS[0]!.split('-')[0]!);
	await expect(search.getByText('on this device', { exact: false }).first()).toBeVisible();
	await expect(search.getByText(SECRETS[0]!, { exact: false }).first()).toBeVisible();
	await bob.keyboard.press('Escape');
	await expect(search).toBeHidden();

	// The laptop removes the phone: it leaves the group, and reads nothing sent after.
	await approver.reload();
	const devices = approver.getByRole('region', { name: 'Your devices' });
	// Which row is this browser is known once its keys here are read.
	await expect(devices.getByText('This browser')).toBeVisible();
	const phoneRow = devices.getByRole('listitem').filter({ hasNotText: 'This browser' });
	await phoneRow.getByRole('button', { name: /^Remove/ }).click();
	await approver.getByRole('dialog').getByRole('button', { name: 'Remove device' }).click();
	await expect(phoneRow).toContainText('Removed');
	// The phone is taken out of the group by a commit of the laptop's (its approving tab or its
	// room's tab) or of Bob's device, whichever comes first; the phone's open tab sees it go.
	await expect(
		phone.getByText('This device was removed from this encrypted conversation.')
	).toBeVisible({ timeout: 30_000 });
	await say(bob, `After the removal: ${SECRETS[3]}`);
	await expect(message(laptop, `After the removal: ${SECRETS[3]}`)).toBeVisible({
		timeout: 30_000
	});
	await expect(phone.getByText(SECRETS[3]!)).toHaveCount(0);

	// Nothing of what was said is anywhere in the server's state, in any file.
	const state = `.wrangler/e2e-${process.env.PARLEY_E2E_PORT ?? 8788}`;
	const files = filesUnder(state);
	expect(files.length).toBeGreaterThan(0);
	for (const file of files) {
		const bytes = readFileSync(file);
		for (const secret of SECRETS) {
			expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
		}
	}
});
