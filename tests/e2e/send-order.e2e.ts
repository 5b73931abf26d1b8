import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import {
	expectConnected,
	expectNotConnected,
	peopleInRoom,
	setOffline,
	timeline
} from './realtime-support';

// The room lets a person send SEND_RATE.burst messages at once and then a few a second: a hundred
// take about sixteen seconds. These bounds leave room for a slow machine; they are not speed tests.
const DELIVERY_TIMEOUT_MS = 60_000;
/** Between two messages: fifty a second, ten times what the room lets through once the burst is spent. */
const KEY_GAP_MS = 20;

const numbered = (count: number, label: string) =>
	Array.from({ length: count }, (_, i) => `${label} ${i + 1}`);

/**
 * Writes each message and presses Enter, one message per task: faster than anyone types and than
 * Playwright's own typing (a round trip per key), as a paste-and-send script would. New messages
 * keep coming while the room is still refusing earlier ones over the rate limit.
 */
async function typeAll(page: Page, bodies: readonly string[]): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message' });
	await box.evaluate(
		async (element, { bodies, gap }) => {
			const textarea = element as HTMLTextAreaElement;
			for (const body of bodies) {
				textarea.value = body;
				textarea.dispatchEvent(new Event('input', { bubbles: true }));
				textarea.dispatchEvent(
					new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true })
				);
				// Lets the page take in what the room answered, as between two real key presses.
				await new Promise((resolve) => setTimeout(resolve, gap));
			}
		},
		{ bodies, gap: KEY_GAP_MS }
	);
	await expect(box).toHaveValue('');
}

function bodies(page: Page) {
	return timeline(page).locator('li[data-seq] .body');
}

/** Scrolls up until the whole history is loaded (a page at a time). */
async function loadAllHistory(page: Page, count: number): Promise<void> {
	const log = timeline(page);
	await expect(async () => {
		await log.evaluate((el) => el.scrollTo({ top: 0 }));
		await expect(log.locator('li[data-seq]')).toHaveCount(count, { timeout: 1000 });
	}).toPass();
}

test('a hundred messages sent as fast as alice can type reach bob in the order she sent them', async ({
	browser
}) => {
	test.setTimeout(180_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Order');
	const sent = numbered(100, 'Line');

	await typeAll(alice.page, sent);

	await expect(bodies(bob.page)).toHaveText(sent, { timeout: DELIVERY_TIMEOUT_MS });
	await expect(bodies(alice.page)).toHaveText(sent, { timeout: DELIVERY_TIMEOUT_MS });
	await expect(timeline(alice.page).locator('li.pending')).toHaveCount(0);

	// The room stored them in that order: the history says the same after a reload.
	await alice.page.reload();
	await loadAllHistory(alice.page, sent.length);
	await expect(bodies(alice.page)).toHaveText(sent);
});

test('forty messages written offline reach bob once each, in order, ahead of what alice writes once back', async ({
	browser
}) => {
	test.setTimeout(180_000);
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Tunnel');
	const offline = numbered(40, 'Offline');
	const back = numbered(20, 'Back');
	await setOffline(alice.page, true);
	await expectNotConnected(alice.page);

	await typeAll(alice.page, offline);
	await expect(timeline(alice.page).locator('li.pending')).toHaveCount(offline.length);

	// Back online, she goes on writing while the outbox is still going out over the rate limit.
	await setOffline(alice.page, false);
	await expectConnected(alice.page);
	await typeAll(alice.page, back);

	const all = [...offline, ...back];
	await expect(bodies(bob.page)).toHaveText(all, { timeout: DELIVERY_TIMEOUT_MS });
	await expect(timeline(alice.page).locator('li.pending')).toHaveCount(0, {
		timeout: DELIVERY_TIMEOUT_MS
	});
	await expect(bodies(alice.page)).toHaveText(all);

	// Once each in the room's history too, not only in what the socket delivered.
	await bob.page.reload();
	await loadAllHistory(bob.page, all.length);
	await expect(bodies(bob.page)).toHaveText(all);
});
