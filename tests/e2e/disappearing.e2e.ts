// Disappearing messages in a direct conversation: either person turns them on in its details,
// both see it announced, and a message sent after vanishes from both browsers once it is older
// than the setting (the shortest, 30 seconds, so that the test waits as little as it can).
import { expect, test } from './fixtures';
import { befriend, openProfile, sendMessage, timeline } from './people-support';
import { expectConnected, message } from './realtime-support';
import { persona, signedInPage } from './support';
import { openDetails } from './ui-support';

test('a disappearing message vanishes from both browsers', async ({ browser }) => {
	test.setTimeout(90_000);
	const anaWho = persona('ana');
	const boWho = persona('bo');
	const ana = await signedInPage(browser, anaWho);
	const bo = await signedInPage(browser, boWho);
	await befriend(ana, 'Ana', bo, boWho);

	await openProfile(ana, boWho);
	await ana.getByRole('button', { name: 'Message' }).click();
	await expect(ana).toHaveURL(/\/rooms\/[a-z0-9]+$/);
	const room = new URL(ana.url()).pathname;
	await expectConnected(ana);
	await sendMessage(ana, 'Sent before the setting');
	await bo.goto(room);
	await expectConnected(bo);
	await expect(message(bo, 'Sent before the setting')).toBeVisible();

	await openDetails(ana, room);
	const setting = ana.getByRole('combobox', { name: 'Disappearing messages' });
	await setting.selectOption({ label: 'After 30 seconds' });
	await ana.getByRole('button', { name: 'Save disappearing messages' }).click();
	await expect(setting).toHaveValue('30');
	await expect(timeline(bo).getByText(/Ana turned on disappearing messages/)).toBeVisible();

	await ana.goto(room);
	await expectConnected(ana);
	await sendMessage(ana, 'Gone in thirty seconds');
	await expect(message(ana, 'Gone in thirty seconds')).toBeVisible();
	await expect(message(bo, 'Gone in thirty seconds')).toBeVisible();

	// Both screens drop it (and the one sent before, which the setting covers too) within the wait.
	for (const page of [ana, bo]) {
		await expect(message(page, 'Gone in thirty seconds')).toHaveCount(0, { timeout: 45_000 });
		await expect(message(page, 'Sent before the setting')).toHaveCount(0);
	}
	// A reload does not bring them back: the history says they expired.
	await bo.reload();
	await expectConnected(bo);
	await expect(timeline(bo).getByText(/Ana turned on disappearing messages/)).toBeVisible();
	await expect(message(bo, 'Gone in thirty seconds')).toHaveCount(0);
});
