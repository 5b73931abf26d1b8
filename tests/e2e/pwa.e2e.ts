// The installable app in Chromium: its manifest and icons, the service worker that takes control,
// replaces itself between builds only when the person reloads, answers pages with no network, and
// shows Web Push notifications (delivered to it as the browser would, through the DevTools protocol).
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from './fixtures';
import type { BrowserContext, Page } from '@playwright/test';
import { persona, signedInPage } from './support';
import { createRoom } from './ui-support';

// This file is about what the service worker does: it runs here (playwright.config.ts blocks it).
test.use({ serviceWorkers: 'allow' });

type Manifest = {
	id: string;
	name: string;
	short_name: string;
	description: string;
	start_url: string;
	scope: string;
	display: string;
	theme_color: string;
	background_color: string;
	icons: { src: string; sizes: string; type: string; purpose?: string }[];
	shortcuts: { name: string; url: string; icons?: { src: string; sizes: string }[] }[];
};

/** The width and height a PNG's header declares. */
function pngSize(bytes: Buffer): string {
	expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
	return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

/** Waits until a service worker controls the page, and answers its script's URL. */
async function controlled(page: Page): Promise<void> {
	await expect
		.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.state ?? null))
		.toBe('activated');
}

/** The page's service worker registration, ready (its worker active). */
async function ready(page: Page): Promise<void> {
	await page.evaluate(async () => void (await navigator.serviceWorker.ready));
}

test('the manifest is served with what installing needs, and its icons load', async ({
	page,
	request
}) => {
	await page.goto('/');
	const href = await page.locator('link[rel="manifest"]').getAttribute('href');
	expect(new URL(href!, page.url()).pathname).toBe('/manifest.webmanifest');
	const response = await request.get('/manifest.webmanifest');
	expect(response.status()).toBe(200);
	expect(response.headers()['content-type']).toContain('application/manifest+json');
	const manifest = (await response.json()) as Manifest;
	expect(manifest).toMatchObject({
		id: '/',
		name: 'Parley',
		short_name: 'Parley',
		start_url: '/',
		scope: '/',
		display: 'standalone'
	});
	expect(manifest.description.length).toBeGreaterThan(10);
	expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
	expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
	expect(manifest.shortcuts.map((s) => s.url)).toEqual(['/', '/friends', '/directory']);

	// Every icon loads as the PNG of the size it claims, including a maskable 512.
	const icons = [...manifest.icons, ...manifest.shortcuts.flatMap((s) => s.icons ?? [])];
	for (const icon of icons) {
		const file = await request.get(icon.src);
		expect(file.status(), icon.src).toBe(200);
		expect(file.headers()['content-type'], icon.src).toBe('image/png');
		expect(pngSize(await file.body()), icon.src).toBe(icon.sizes);
	}
	const any = manifest.icons.filter((i) => (i.purpose ?? 'any').split(' ').includes('any'));
	expect(any.map((i) => i.sizes).sort()).toEqual(['192x192', '512x512']);
	expect(manifest.icons.some((i) => i.purpose === 'maskable' && i.sizes === '512x512')).toBe(true);

	// The shortcuts' pages exist (for a visitor they ask to log in first, which is an answer too).
	for (const shortcut of manifest.shortcuts) {
		const answer = await request.get(shortcut.url, { maxRedirects: 0 });
		expect(answer.status(), shortcut.url).toBeLessThan(400);
	}
});

test('after a visit a service worker controls the page, across a reload', async ({ page }) => {
	await page.goto('/');
	await ready(page);
	await page.reload();
	await controlled(page);
	expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toMatch(
		/\/service-worker\.js$/
	);
	// The shell of this build is kept whole; the thousands of emoji pictures are not in it.
	const shell = await page.evaluate(async () => {
		const names = (await caches.keys()).filter((name) => name.startsWith('parley-shell-'));
		const keys = names.length === 1 ? await (await caches.open(names[0]!)).keys() : [];
		return { names, paths: keys.map((request) => new URL(request.url).pathname) };
	});
	expect(shell.names).toHaveLength(1);
	expect(shell.paths).toContain('/offline.html');
	expect(shell.paths.some((p) => p.startsWith('/_app/immutable/'))).toBe(true);
	expect(shell.paths.some((p) => p.startsWith('/emoji/'))).toBe(false);
});

/**
 * A proxy in front of the app (a browser context's own, so the worker's update check goes through
 * it too: the DevTools protocol does not see that request) that, once `deploy` is called, answers
 * the worker's script as the next build would: the same code under another version.
 */
async function deployingProxy(base: string, version: string, next: string) {
	const app = new URL(base);
	let deployed = false;
	const proxy = createServer((incoming, answer) => {
		const url = new URL(incoming.url ?? '/', base);
		const replacing = deployed && url.pathname === '/service-worker.js';
		const headers = { ...incoming.headers, 'accept-encoding': 'identity' };
		// The browser asks whether its copy is still current; the next build's is not.
		if (replacing) delete headers['if-none-match'];
		const upstream = request(
			{
				host: app.hostname,
				port: app.port,
				path: url.pathname + url.search,
				method: incoming.method,
				headers
			},
			(response) => {
				if (!replacing) {
					answer.writeHead(response.statusCode ?? 502, response.headers);
					response.pipe(answer);
					return;
				}
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('end', () => {
					const script = Buffer.concat(chunks).toString('utf8');
					const { 'content-length': _length, etag: _etag, ...rest } = response.headers;
					answer.writeHead(response.statusCode ?? 502, rest);
					answer.end(script.replaceAll(version, next));
				});
			}
		);
		upstream.on('error', () => answer.destroy());
		incoming.pipe(upstream);
	});
	await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
	const { port } = proxy.address() as AddressInfo;
	return {
		server: `http://127.0.0.1:${port}`,
		deploy: () => (deployed = true),
		close: () => new Promise<void>((resolve) => proxy.close(() => resolve()))
	};
}

test('a new build waits until the person reloads, then replaces the old one whole', async ({
	browser,
	baseURL,
	request: api
}) => {
	const { version } = (await (await api.get('/_app/version.json')).json()) as { version: string };
	const next = `${version}-next`;
	const proxy = await deployingProxy(baseURL!, version, next);
	const context = await browser.newContext({ proxy: { server: proxy.server } });
	try {
		const page = await context.newPage();
		await page.goto('/');
		await ready(page);
		await page.reload();
		await controlled(page);
		expect(await page.evaluate(() => caches.keys())).toContain(`parley-shell-${version}`);

		proxy.deploy();
		await page.evaluate(async () => {
			const registration = await navigator.serviceWorker.ready;
			await registration.update();
		});

		// It waits: the page still runs on the old one, and offers to reload.
		const banner = page.getByRole('status').filter({ hasText: 'A new version of Parley is ready' });
		await expect(banner).toBeVisible();
		expect(
			await page.evaluate(async () => (await navigator.serviceWorker.ready).waiting?.state)
		).toBe('installed');
		expect(await page.evaluate(() => caches.keys())).toContain(`parley-shell-${version}`);

		await Promise.all([
			page.waitForEvent('load'),
			banner.getByRole('button', { name: 'Reload' }).click()
		]);
		await controlled(page);
		await expect(banner).toBeHidden();
		// The old build's shell is gone with it, the new one's whole.
		await expect
			.poll(() =>
				page.evaluate(async () =>
					(await caches.keys()).filter((name) => name.startsWith('parley-shell-'))
				)
			)
			.toEqual([`parley-shell-${next}`]);
		expect(
			await page.evaluate(async () => (await navigator.serviceWorker.ready).waiting)
		).toBeNull();
	} finally {
		await context.close();
		await proxy.close();
	}
});

test('with no network, pages seen before open from the cache and others show the offline page', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	await ready(alice);
	const room = await createRoom(alice, 'Offline reading');
	// Loaded whole (not only its data): the page itself is what a reload asks for.
	await alice.goto(room);
	await controlled(alice);

	await alice.context().setOffline(true);
	await alice.reload();
	await expect(alice.getByRole('heading', { name: 'Offline reading', level: 1 })).toBeVisible();
	await alice.goto('/');
	await expect(alice.getByRole('textbox', { name: 'New room' })).toBeVisible();

	// Never opened on this device: nothing to show but the offline page, with a way to retry.
	await alice.goto('/friends');
	await expect(alice.getByRole('heading', { name: "You're offline" })).toBeVisible();
	await alice.context().setOffline(false);
	await alice.getByRole('button', { name: 'Retry' }).click();
	await expect(alice.getByRole('heading', { name: 'Friends', level: 1 })).toBeVisible();
	await alice.context().close();
});

/** Delivers a push to the page's service worker as Chromium's push service client would. */
async function pushTo(context: BrowserContext, page: Page) {
	const cdp = await context.newCDPSession(page);
	const registrations = new Map<string, string>();
	cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
		for (const r of updated) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
	});
	await cdp.send('ServiceWorker.enable');
	const origin = new URL(page.url()).origin;
	await expect.poll(() => registrations.get(`${origin}/`)).toBeTruthy();
	const registrationId = registrations.get(`${origin}/`)!;
	return (payload: unknown) =>
		cdp.send('ServiceWorker.deliverPushMessage', {
			origin,
			registrationId,
			data: JSON.stringify(payload)
		});
}

type Shown = { title: string; body: string; tag: string; data: unknown };

async function notifications(page: Page): Promise<Shown[]> {
	return page.evaluate(async () => {
		const registration = await navigator.serviceWorker.ready;
		return (await registration.getNotifications()).map((n) => ({
			title: n.title,
			body: n.body,
			tag: n.tag,
			data: n.data as unknown
		}));
	});
}

test('a push shows one notification per room, counted up, and its click opens the room', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const context = alice.context();
	await context.grantPermissions(['notifications']);
	const room = await createRoom(alice, 'Pushed room');
	const roomId = room.split('/').pop()!;
	await alice.goto('/');
	await ready(alice);
	await alice.reload();
	await controlled(alice);
	const push = await pushTo(context, alice);

	const payload = (count: number, seq: number, body: string) => ({
		tag: `room:${roomId}`,
		title: 'Bob in Pushed room',
		body,
		url: `/rooms/${roomId}?m=${seq}`,
		count,
		at: Date.now()
	});
	await push(payload(1, 3, 'Are you coming?'));
	await expect
		.poll(() => notifications(alice))
		.toEqual([
			{
				title: 'Bob in Pushed room',
				body: 'Are you coming?',
				tag: `room:${roomId}`,
				data: { url: `/rooms/${roomId}?m=3`, count: 1 }
			}
		]);

	// The rest of the burst: the same notification, counting all of it, with the last line.
	await push(payload(2, 5, 'Leaving at six'));
	await expect
		.poll(() => notifications(alice))
		.toEqual([
			{
				title: 'Bob in Pushed room',
				body: '3 new messages\nLeaving at six',
				tag: `room:${roomId}`,
				data: { url: `/rooms/${roomId}?m=5`, count: 3 }
			}
		]);

	// A push that is not ours (a push service's test message) shows nothing of it.
	await push({ hello: 'world' });

	// The click, as the worker's own handler receives it (the protocol cannot click a notification):
	// the open window is taken to the room, at the message.
	const [worker] = context.serviceWorkers();
	expect(worker).toBeDefined();
	await worker!.evaluate(async () => {
		// The worker's globals, which the tests' DOM types do not describe.
		const scope = self as unknown as {
			registration: ServiceWorkerRegistration;
			dispatchEvent(event: Event): boolean;
			NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
		};
		const [shown] = await scope.registration.getNotifications();
		scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification: shown! }));
	});
	await expect(alice).toHaveURL(new RegExp(`/rooms/${roomId}\\?m=5$`));
	await expect(alice.getByRole('heading', { name: 'Pushed room', level: 1 })).toBeVisible();
	await expect.poll(() => notifications(alice)).toEqual([]);

	// Reading the room in a focused window: a push for it shows nothing; one for another room does.
	await alice.bringToFront();
	expect(await alice.evaluate(() => document.hasFocus())).toBe(true);
	await push(payload(1, 6, 'Seen already'));
	await push({ ...payload(1, 2, 'Elsewhere'), tag: 'room:other', url: '/rooms/other?m=2' });
	await expect
		.poll(() => notifications(alice).then((shown) => shown.map((n) => n.body)))
		.toEqual(['Elsewhere']);
	await context.close();
});
