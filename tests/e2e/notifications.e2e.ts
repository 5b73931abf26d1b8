// Notification settings and the notifications an open tab shows while hidden (issue 16).
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { persona, signedInPage } from './support';
import { message, peopleInRoom, say, setTabHidden } from './realtime-support';

// This file is about what the service worker does: it runs here (playwright.config.ts blocks it).
test.use({ serviceWorkers: 'allow' });

type Shown = { title: string; body: string; tag: string; data: { url: string; count: number } };

/**
 * Records the notifications a page makes itself (`new Notification`, used where no service worker
 * is active): the browser shows them outside the page, where a test cannot look.
 */
function recordPageNotifications(): void {
	const Original = window.Notification;
	const shown: unknown[] = [];
	const open: Notification[] = [];
	Object.defineProperty(window, 'shownNotifications', { value: shown });
	Object.defineProperty(window, 'openNotifications', { value: open });
	class Recorded extends Original {
		constructor(title: string, options: NotificationOptions = {}) {
			super(title, options);
			shown.push({ title, body: options.body, tag: options.tag, data: options.data });
			open.push(this);
		}
	}
	Object.defineProperty(window, 'Notification', { value: Recorded, configurable: true });
}

/** The notifications shown with a tag: by the service worker if one is active, else by the page. */
async function shownWithTag(page: Page, tag: string): Promise<Shown[]> {
	return page.evaluate(async (tag) => {
		const worker = await navigator.serviceWorker?.getRegistration();
		if (worker?.active) {
			return (await worker.getNotifications({ tag })).map((n) => ({
				title: n.title,
				body: n.body,
				tag: n.tag,
				data: n.data
			})) as Shown[];
		}
		const recorded = (window as unknown as { shownNotifications: Shown[] }).shownNotifications;
		// Each replaces the one before with its tag: only the last is on screen.
		return recorded.filter((n) => n.tag === tag).slice(-1);
	}, tag);
}

async function closeShown(page: Page): Promise<void> {
	await page.evaluate(async () => {
		const worker = await navigator.serviceWorker?.getRegistration();
		for (const n of (await worker?.getNotifications()) ?? []) n.close();
		const page = window as unknown as {
			shownNotifications: unknown[];
			openNotifications: Notification[];
		};
		for (const n of page.openNotifications.splice(0)) n.close();
		page.shownNotifications.length = 0;
	});
}

test('a do-not-disturb schedule is kept, and bad input is refused with a reason', async ({
	browser
}) => {
	const page = await signedInPage(browser, persona('alice'));
	await page.goto('/settings/notifications', { waitUntil: 'networkidle' });
	await expect(page.getByRole('heading', { name: 'Notifications', level: 1 })).toBeVisible();
	await expect(page.getByText('No daily schedule.')).toBeVisible();
	// The browser's own zone is offered until a schedule is saved.
	const zone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
	await expect(page.getByLabel('Time zone')).toHaveValue(zone);

	await page.getByLabel('From').fill('22:00');
	await page.getByLabel('To').fill('07:30');
	await page.getByLabel('Time zone').fill('Europe/Paris');
	await page.getByRole('button', { name: 'Save schedule' }).click();
	await expect(page.getByRole('status').filter({ hasText: 'schedule saved' })).toBeVisible();
	const summary = 'Every day from 22:00 to 07:30 (Europe/Paris).';
	await expect(page.getByText(summary)).toBeVisible();

	await page.reload();
	await expect(page.getByText(summary)).toBeVisible();
	await expect(page.getByLabel('From')).toHaveValue('22:00');
	await expect(page.getByLabel('To')).toHaveValue('07:30');
	await expect(page.getByLabel('Time zone')).toHaveValue('Europe/Paris');

	await page.getByLabel('From').fill('');
	await page.getByLabel('Time zone').fill('Atlantis/Lost_City');
	await page.getByRole('button', { name: 'Save schedule' }).click();
	await expect(page.getByText('Enter the time it starts, for example 22:00.')).toBeVisible();
	await expect(page.getByLabel('Time zone')).toHaveAccessibleDescription(
		'Choose a time zone from the list, like Europe/Paris.'
	);
	await page.reload();
	await expect(page.getByText(summary)).toBeVisible();

	await page.getByRole('button', { name: 'For 1 hour' }).click();
	await expect(page.getByText(/Paused until/)).toBeVisible();
	await page.getByRole('button', { name: 'Resume notifications' }).click();
	await expect(page.getByText(/Paused until/)).toHaveCount(0);
});

test('a hidden tab shows one notification per room, its count adding up over a burst', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Trip');
	const roomId = new URL(alice.page.url()).pathname.split('/').at(-1)!;
	const tag = `room:${roomId}`;

	await bob.page.context().grantPermissions(['notifications']);
	await bob.page.addInitScript(recordPageNotifications);
	await bob.page.goto('/settings/notifications', { waitUntil: 'networkidle' });
	await expect(bob.page.getByText('Off in this browser.')).toBeVisible();
	await bob.page.getByRole('button', { name: 'Turn on notifications' }).click();
	// With no push service to reach here, the browser may not subscribe: open tabs still notify.
	await expect(bob.page.getByText(/^On: |^On in open tabs only/)).toBeVisible({ timeout: 20_000 });

	// Bob's tab is somewhere else and hidden: the room tells his hub, his tab tells him.
	await bob.page.goto('/', { waitUntil: 'networkidle' });
	await setTabHidden(bob.page, true);
	await say(alice.page, `Dinner at eight? @${bob.who.username}`);
	await expect
		.poll(() => shownWithTag(bob.page, tag))
		.toEqual([
			{
				title: 'Alice in Trip',
				body: `Dinner at eight? @${bob.who.username}`,
				tag,
				data: expect.objectContaining({ url: expect.stringMatching(`/rooms/${roomId}`), count: 1 })
			}
		]);

	// A second hidden tab of Bob's gets the same signals: the count still adds up once per signal.
	const secondTab = await bob.page.context().newPage();
	await secondTab.goto('/', { waitUntil: 'networkidle' });
	await setTabHidden(secondTab, true);
	await closeShown(bob.page);
	for (let i = 1; i <= 5; i++) await say(alice.page, `@${bob.who.username} point ${i}`);
	await expect
		.poll(async () => (await shownWithTag(bob.page, tag)).map((n) => n.data.count), {
			timeout: 20_000
		})
		.toEqual([5]);
	const [burst] = await shownWithTag(bob.page, tag);
	expect(burst!.body).toBe(`5 new messages\n@${bob.who.username} point 5`);

	// A visible tab shows nothing: the sidebar says it.
	await secondTab.close();
	await closeShown(bob.page);
	await setTabHidden(bob.page, false);
	await say(alice.page, `@${bob.who.username} are you there?`);
	await expect(
		bob.page.getByRole('navigation', { name: 'Conversations' }).getByText(/are you there/)
	).toBeVisible();
	expect(await shownWithTag(bob.page, tag)).toEqual([]);
});

/** Records what the page puts on the app's icon (the Badging API draws outside the page). */
function recordAppBadge(): void {
	const badges: number[] = [];
	Object.defineProperty(window, 'appBadges', { value: badges });
	Object.defineProperty(navigator, 'setAppBadge', {
		configurable: true,
		value: async (count = 0) => void badges.push(count)
	});
	Object.defineProperty(navigator, 'clearAppBadge', {
		configurable: true,
		value: async () => void badges.push(0)
	});
}

test('a mention in another room updates the bell, the inbox and the app badge, and alerts', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Launch');
	const roomId = new URL(alice.page.url()).pathname.split('/').at(-1)!;
	await bob.page.context().grantPermissions(['notifications']);
	await bob.page.addInitScript(recordPageNotifications);
	await bob.page.addInitScript(recordAppBadge);
	await bob.page.goto('/settings/notifications', { waitUntil: 'networkidle' });
	await bob.page.getByRole('button', { name: 'Turn on notifications' }).click();
	await expect(bob.page.getByText(/^On: |^On in open tabs only/)).toBeVisible({ timeout: 20_000 });
	const bell = bob.page.getByRole('banner').getByRole('link', { name: /^Notifications/ });
	await expect(bell).toHaveAccessibleName('Notifications');

	await bob.page.goto('/friends', { waitUntil: 'networkidle' });
	await setTabHidden(bob.page, true);
	await say(alice.page, `Countdown starts now @${bob.who.username}`);
	// The room's flush writes the inbox item and tells Bob's open tab its count.
	await expect(bell).toHaveAccessibleName('Notifications, 1 unread', { timeout: 15_000 });
	await expect
		.poll(async () => (await shownWithTag(bob.page, `room:${roomId}`)).map((n) => n.title))
		.toEqual(['Alice in Launch']);
	await expect
		.poll(() =>
			bob.page.evaluate(() => (window as unknown as { appBadges: number[] }).appBadges.at(-1))
		)
		.toBe(1);

	await setTabHidden(bob.page, false);
	await bell.click();
	const item = bob.page.getByRole('button', { name: /Unread: Alice mentioned you in Launch/ });
	await expect(item).toBeVisible();
	await item.click();
	await expect(bob.page).toHaveURL(new RegExp(`/rooms/${roomId}\\?m=\\d+`));
	await expect(message(bob.page, `Countdown starts now @${bob.who.username}`)).toHaveCount(1);
	await expect(bell).toHaveAccessibleName('Notifications');
});
