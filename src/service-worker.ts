/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
// The installable app's service worker: the app shell of this build kept for opening without a
// network, the pages last seen answered when the network fails, and the notifications of Web Push.
// SvelteKit builds and registers it (production builds only, which is what `npm run dev` and the
// end-to-end tests serve).
import { build, files, version } from '$service-worker';
import { OFFLINE_PAGE, PAGES_CACHE, SHELL_CACHE_PREFIX } from '$lib/pwa';
import {
	combine,
	openFromNotification,
	readingRoom,
	readPush
} from '$lib/service-worker/notifications';

const sw = self as unknown as ServiceWorkerGlobalScope;

const SHELL_CACHE = SHELL_CACHE_PREFIX + version;

// The build's scripts and styles, and the small static files. The emoji pictures are thousands of
// files, most never shown on a given device: the HTTP cache keeps those that are.
const SHELL = [...build, ...files.filter((path) => !path.startsWith('/emoji/'))];
const SHELL_PATHS = new Set(SHELL);

// Answers that belong to one moment or one person's secrets and must never be replayed from a
// cache: the API, files (they carry their own caching), sockets, and the sign-in and account flows.
// Search results too: every query is another address, and an answer is stale at once.
const NEVER_CACHED = [
	'/search',
	'/api/',
	'/files/',
	'/ws/',
	'/login',
	'/logout',
	'/register',
	'/auth/',
	'/verify-email',
	'/forgot-password',
	'/reset-password',
	'/invite/',
	'/dev/'
];

sw.addEventListener('install', (event) => {
	// No skipWaiting here: the open tabs run this build's predecessor until the person chooses to
	// reload (the page's update banner asks the waiting worker to take over).
	event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
});

sw.addEventListener('activate', (event) => {
	event.waitUntil(
		(async () => {
			for (const name of await caches.keys()) {
				if (name.startsWith(SHELL_CACHE_PREFIX) && name !== SHELL_CACHE) await caches.delete(name);
			}
			await sw.clients.claim();
		})()
	);
});

sw.addEventListener('message', (event) => {
	const message: unknown = event.data;
	if (typeof message !== 'object' || message === null || !('type' in message)) return;
	if (message.type === 'skip-waiting') {
		void sw.skipWaiting();
	} else if (message.type === 'clear-user-data') {
		event.waitUntil(clearUserData());
	}
});

/** Signing out (or another person signing in): nothing of the last person's stays on the device. */
async function clearUserData(): Promise<void> {
	await caches.delete(PAGES_CACHE);
	for (const shown of await sw.registration.getNotifications()) shown.close();
}

sw.addEventListener('fetch', (event) => {
	const { request } = event;
	if (request.method !== 'GET') return;
	const url = new URL(request.url);
	if (url.origin !== sw.location.origin) return;
	if (NEVER_CACHED.some((prefix) => url.pathname.startsWith(prefix))) return;
	if (SHELL_PATHS.has(url.pathname)) {
		event.respondWith(fromShell(request));
	} else if (request.mode === 'navigate' || url.pathname.endsWith('/__data.json')) {
		event.respondWith(
			networkFirst(request, request.mode === 'navigate', (work) => event.waitUntil(work))
		);
	}
});

/** A file of this build: the same bytes for as long as the build lives, so the cache answers. */
async function fromShell(request: Request): Promise<Response> {
	const cached = await caches.match(request, { cacheName: SHELL_CACHE });
	return cached ?? fetch(request);
}

/**
 * A page or its data: the network's answer when there is one (kept for later), else the copy kept
 * from the last visit, else (for a page) the offline page.
 */
async function networkFirst(
	request: Request,
	navigation: boolean,
	waitUntil: (work: Promise<unknown>) => void
): Promise<Response> {
	try {
		const response = await fetch(request);
		if (response.status === 200 && response.type === 'basic') {
			const copy = response.clone();
			waitUntil(caches.open(PAGES_CACHE).then((cache) => cache.put(request.url, copy)));
			if (!navigation) waitUntil(keepPageOf(request.url));
		}
		return response;
	} catch (error) {
		const pages = await caches.open(PAGES_CACHE);
		// A notification's link carries the message (`?m=`); the room's page kept without it serves.
		const kept =
			(await pages.match(request.url)) ??
			(navigation ? await pages.match(request.url, { ignoreSearch: true }) : undefined);
		if (kept) return kept;
		if (!navigation) throw error;
		const offline = await caches.match(OFFLINE_PAGE, { cacheName: SHELL_CACHE });
		if (!offline) throw error;
		// The static host answers `/offline.html` by a redirect to `/offline`, and a browser refuses
		// a redirected answer to a navigation: the same page, as an answer of its own.
		return new Response(offline.body, { status: 200, headers: offline.headers });
	}
}

/**
 * A page opened inside the app (a link, not a load) fetches only its data, and a reload while
 * offline needs the page itself: the first time a page's data comes, the page is fetched too and
 * kept, once. It shows what it showed then, and the room brings its newer messages from IndexedDB.
 */
async function keepPageOf(dataUrl: string): Promise<void> {
	const url = new URL(dataUrl);
	url.pathname = url.pathname.slice(0, -'/__data.json'.length) || '/';
	url.search = '';
	const pages = await caches.open(PAGES_CACHE);
	if (await pages.match(url.href)) return;
	try {
		const page = await fetch(url.href, { credentials: 'same-origin' });
		// Not a redirect: a person signed out meanwhile gets the sign-in page, which is no room's.
		if (page.status === 200 && page.type === 'basic' && !page.redirected) {
			await pages.put(url.href, page);
		}
	} catch {
		// Offline again, or the server refused: the next visit tries again.
	}
}

sw.addEventListener('push', (event) => {
	const payload = readPush(event.data);
	if (payload) event.waitUntil(showPush(payload));
});

async function showPush(payload: NonNullable<ReturnType<typeof readPush>>): Promise<void> {
	const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
	if (readingRoom(windows, new URL(payload.url, sw.location.origin).href)) return;
	const [shown] = await sw.registration.getNotifications({ tag: payload.tag });
	const { title, options } = combine(payload, shown?.data);
	await sw.registration.showNotification(title, options);
}

sw.addEventListener('notificationclick', (event) => {
	event.notification.close();
	const opening = openFromNotification(sw.clients, sw.location.origin, event.notification.data);
	event.waitUntil(opening);
});
