// Settings → Your data: a person downloads their data as one ZIP, which holds their profile and
// the messages they wrote.
import { readFile } from 'node:fs/promises';
import { unzipSync } from 'fflate';
import { expect, test } from './fixtures';
import { message, say } from './realtime-support';
import { persona } from './support';
import { createRoom, personAt } from './ui-support';

test('a person downloads their data, with their profile and their messages', async ({
	browser
}) => {
	const who = persona('ana');
	const page = await personAt(browser, who, 'desktop');
	await createRoom(page, 'Garden club');
	await say(page, 'Tomatoes need more sun');
	await expect(message(page, 'Tomatoes need more sun')).toBeVisible();

	await page.goto('/settings');
	await page
		.getByRole('navigation', { name: 'Settings' })
		.getByRole('link', { name: 'Your data' })
		.click();
	await expect(page.getByRole('heading', { level: 1, name: 'Your data' })).toBeVisible();

	// The room copies a message to the database a moment after it is sent: a download made in that
	// moment is simply made again.
	await expect(async () => {
		const [download] = await Promise.all([
			page.waitForEvent('download'),
			page.getByRole('link', { name: 'Download my data' }).click()
		]);
		expect(download.suggestedFilename()).toMatch(
			new RegExp(`^parley-${who.username}-\\d{4}-\\d{2}-\\d{2}\\.zip$`)
		);
		const zip = unzipSync(new Uint8Array(await readFile((await download.path())!)));
		const text = (name: string) => new TextDecoder().decode(zip[name]);
		expect(JSON.parse(text('profile.json'))).toMatchObject({
			username: who.username,
			displayName: who.displayName,
			email: who.email
		});
		const lines = text('messages.jsonl').trimEnd().split('\n').filter(Boolean);
		expect(lines.map((line) => JSON.parse(line).body)).toEqual(['Tomatoes need more sun']);
		expect(JSON.parse(text('rooms.json'))).toMatchObject([{ name: 'Garden club', role: 'owner' }]);
	}).toPass({ timeout: 10_000 });
	// The page stays where it was.
	await expect(page).toHaveURL(/\/settings\/export$/);
});
