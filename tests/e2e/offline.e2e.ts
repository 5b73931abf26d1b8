// The installed app without a network: a room visited once opens from the service worker's cached
// page and the person's IndexedDB, what is written meanwhile goes once when the network is back,
// and nothing of one person stays in the browser for the next.
import { expect, test } from './fixtures';
import type { Browser, Page } from '@playwright/test';
import { PAGES_CACHE } from '../../src/lib/pwa';
import {
	expectConnected,
	expectNotConnected,
	message,
	peopleInRoom,
	say,
	setOffline,
	timeline
} from './realtime-support';
import { persona, register, signedInPage } from './support';
import { createRoom } from './ui-support';

// This file is about what the service worker does: it runs here (playwright.config.ts blocks it).
test.use({ serviceWorkers: 'allow' });

/** The page is controlled by the app's service worker: what it loads from now on is cached. */
async function underServiceWorker(page: Page): Promise<void> {
	await page.evaluate(() => navigator.serviceWorker.ready);
	await expect
		.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null))
		.toBe(true);
}

/** The names of the per-person databases this browser holds (`parley:<user id>`). */
function personalDatabases(page: Page): Promise<string[]> {
	return page.evaluate(async () =>
		(await indexedDB.databases())
			.map((d) => d.name ?? '')
			.filter((name) => name.startsWith('parley'))
	);
}

/** The bodies of the messages the person's database keeps for the room `roomId`. */
function keptBodies(page: Page, roomId: string): Promise<string[]> {
	return page.evaluate(async (roomId) => {
		const found = (await indexedDB.databases()).find((d) => d.name?.startsWith('parley:'));
		if (!found?.name) return [];
		const db = await new Promise<IDBDatabase>((resolve, reject) => {
			const req = indexedDB.open(found.name!);
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		const range = IDBKeyRange.bound([roomId, -Infinity], [roomId, Infinity]);
		const kept = await new Promise<{ message: { body: string } }[]>((resolve, reject) => {
			const req = db.transaction('messages').objectStore('messages').getAll(range);
			req.onsuccess = () => resolve(req.result);
			req.onerror = () => reject(req.error);
		});
		db.close();
		return kept.map((k) => k.message.body);
	}, roomId);
}

/** The room's id in its page's address (whole, or the path alone). */
const roomIdOf = (url: string) => new URL(url, 'http://localhost').pathname.split('/').at(-1)!;

/**
 * Alice, under the service worker, says `words` in a new room and opens it by its address: the
 * page is cached and her database keeps the message.
 */
async function aliceKeepsRoom(
	browser: Browser,
	roomName: string,
	words: string
): Promise<{ page: Page; room: string }> {
	const page = await signedInPage(browser, persona('alice'));
	await underServiceWorker(page);
	const room = await createRoom(page, roomName);
	await say(page, words);
	await expect(message(page, words)).toHaveCount(1);
	await page.goto(room);
	await expectConnected(page);
	await expect.poll(() => keptBodies(page, roomIdOf(room))).toContain(words);
	return { page, room };
}

test('a room visited once opens offline with its messages, and what is written offline arrives once', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Tunnel talk');
	const room = alice.page.url();
	await underServiceWorker(alice.page);
	await say(bob.page, 'Before the tunnel');
	// A visit by its address: the service worker keeps the page with this message in it.
	await alice.page.goto(room);
	await expectConnected(alice.page);
	await expect(message(alice.page, 'Before the tunnel')).toHaveCount(1);
	// Said after that page was kept: only the person's database has it.
	await say(bob.page, 'Said while the page stayed the same');
	await expect(message(alice.page, 'Said while the page stayed the same')).toHaveCount(1);
	await expect
		.poll(() => keptBodies(alice.page, roomIdOf(room)))
		.toContain('Said while the page stayed the same');

	await alice.page.context().setOffline(true);
	await alice.page.reload();
	await expectNotConnected(alice.page);
	await expect(message(alice.page, 'Before the tunnel')).toHaveCount(1);
	await expect(message(alice.page, 'Said while the page stayed the same')).toHaveCount(1);

	await say(alice.page, 'Written in the tunnel');
	await expect(timeline(alice.page).locator('li.pending')).toContainText('Written in the tunnel');
	await setOffline(alice.page, false);
	await expectConnected(alice.page);
	await expect(message(bob.page, 'Written in the tunnel')).toHaveCount(1);
	await expect(message(alice.page, 'Written in the tunnel')).toHaveCount(1);
	await expect(timeline(alice.page).locator('li.pending')).toHaveCount(0);
	// Still once after a fresh load (no second copy stored by a resend).
	await bob.page.reload();
	await expectConnected(bob.page);
	await expect(message(bob.page, 'Written in the tunnel')).toHaveCount(1);
});

test('a room only ever opened from inside the app still reloads offline', async ({ browser }) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Back roads');
	const room = new URL(alice.page.url());
	await say(bob.page, 'Opened by a click');
	await underServiceWorker(alice.page);
	await alice.page.goto('/');
	// As if the room had never been loaded by its address: no page of it is kept. (Whether one was
	// depends on whether the worker controlled the tab when the room was first opened, which is a
	// race with its install; what matters is that none is kept now.)
	const kept = await alice.page.evaluate(
		async ({ cache, url }) => {
			const pages = await caches.open(cache);
			await pages.delete(url);
			return (await pages.match(url)) !== undefined;
		},
		{ cache: PAGES_CACHE, url: room.href }
	);
	expect(kept).toBe(false);
	// By the sidebar's link: the room's data is fetched, not its page.
	await alice.page
		.getByRole('link', { name: /Back roads/ })
		.first()
		.click();
	await expect(alice.page).toHaveURL(room.href);
	await expectConnected(alice.page);
	await expect(message(alice.page, 'Opened by a click')).toHaveCount(1);
	// The service worker kept the page itself as well, once its data came.
	await expect
		.poll(() =>
			alice.page.evaluate(
				async ({ cache, url }) => (await (await caches.open(cache)).match(url)) !== undefined,
				{ cache: PAGES_CACHE, url: room.href }
			)
		)
		.toBe(true);
	await expect
		.poll(() => keptBodies(alice.page, roomIdOf(room.href)))
		.toContain('Opened by a click');

	await alice.page.context().setOffline(true);
	await alice.page.reload();
	await expectNotConnected(alice.page);
	await expect(message(alice.page, 'Opened by a click')).toHaveCount(1);
	await alice.page.context().setOffline(false);
});

test('offline, a cached page older than the list the browser kept shows the kept list', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	await underServiceWorker(alice);
	// `/` is kept by the service worker before the room exists; the room comes after.
	await alice.goto('/');
	const room = await createRoom(alice, 'Made after the home page');
	await expectConnected(alice);
	await expect
		.poll(() =>
			alice.evaluate(async () => {
				const found = (await indexedDB.databases()).find((d) => d.name?.startsWith('parley:'));
				if (!found?.name) return [];
				const db = await new Promise<IDBDatabase>((resolve, reject) => {
					const req = indexedDB.open(found.name!);
					req.onsuccess = () => resolve(req.result);
					req.onerror = () => reject(req.error);
				});
				const kept = await new Promise<{ conversations: { name: string }[] } | undefined>(
					(resolve, reject) => {
						const req = db.transaction('conversations').objectStore('conversations').get('list');
						req.onsuccess = () => resolve(req.result);
						req.onerror = () => reject(req.error);
					}
				);
				db.close();
				return kept?.conversations.map((c) => c.name) ?? [];
			})
		)
		.toContain('Made after the home page');

	await alice.context().setOffline(true);
	await alice.goto('/');
	const sidebar = alice.getByRole('navigation', { name: 'Conversations' });
	await expect(sidebar.getByRole('link', { name: /Made after the home page/ })).toHaveAttribute(
		'href',
		room
	);
	await alice.context().setOffline(false);
});

test('an unsent message in the outbox of the earlier version is moved over and sent once', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const room = await createRoom(alice, 'Upgrade');
	await expectConnected(alice);
	const [name] = await personalDatabases(alice);
	expect(name).toMatch(/^parley:/);
	// What the earlier version kept: one database for everyone, `parley` v1, store `outbox`.
	await alice.evaluate(
		async ({ roomId, userId }) => {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const req = indexedDB.open('parley', 1);
				req.onupgradeneeded = () =>
					req.result
						.createObjectStore('outbox', { keyPath: 'clientId' })
						.createIndex('room', 'roomId');
				req.onsuccess = () => resolve(req.result);
				req.onerror = () => reject(req.error);
			});
			await new Promise<void>((resolve, reject) => {
				const tx = db.transaction('outbox', 'readwrite');
				tx.objectStore('outbox').put({
					clientId: 'written-before-the-upgrade',
					roomId,
					userId,
					body: 'Written before the upgrade',
					createdAt: Date.now()
				});
				tx.oncomplete = () => resolve();
				tx.onerror = () => reject(tx.error);
			});
			db.close();
		},
		{ roomId: roomIdOf(room), userId: name!.slice('parley:'.length) }
	);
	await alice.reload();
	await expectConnected(alice);
	await expect(message(alice, 'Written before the upgrade')).toHaveCount(1);
	await expect.poll(() => personalDatabases(alice)).toEqual([name]);
	await alice.reload();
	await expectConnected(alice);
	await expect(message(alice, 'Written before the upgrade')).toHaveCount(1);
});

test('signing out leaves nothing of alice in the browser, and bob signing in next sees none of it', async ({
	browser
}) => {
	const { page, room } = await aliceKeepsRoom(browser, 'Private notes', 'Only for alice');
	expect(await page.evaluate((name) => caches.has(name), PAGES_CACHE)).toBe(true);

	await page.getByRole('button', { name: /account menu/ }).click();
	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL(/\/login$/);
	await expect.poll(() => personalDatabases(page)).toEqual([]);
	await expect.poll(() => page.evaluate((name) => caches.has(name), PAGES_CACHE)).toBe(false);

	await register(page, persona('bob'));
	await page.context().setOffline(true);
	await page.goto(room).catch(() => undefined);
	await expect(page.getByText('Only for alice')).toHaveCount(0);
	await expect(page.getByText('Private notes')).toHaveCount(0);
});

test("bob signing in where alice's session ended without signing out finds nothing of hers", async ({
	browser
}) => {
	const { page, room } = await aliceKeepsRoom(browser, 'Left open', 'Alice forgot to sign out');
	const [hers] = await personalDatabases(page);

	// Her session ends (it expired, say): the next person signs in over it.
	await page.context().clearCookies();
	await register(page, persona('bob'));
	await expect.poll(() => personalDatabases(page)).not.toContain(hers);
	await page.context().setOffline(true);
	await page.goto(room).catch(() => undefined);
	await expect(page.getByText('Alice forgot to sign out')).toHaveCount(0);
});
