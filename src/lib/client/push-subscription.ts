// This browser's side of browser notifications: the permission, its Web Push subscription and the
// server's copy of it. Permission is asked only from `turnOn`, which a button calls: browsers
// ignore (and may block) prompts that come without a person's gesture, and people rightly dislike
// them.

/** Whether the person wants notifications in this browser: turning off must hold for open tabs too. */
const CHOICE_KEY = 'parley:notifications';
/** How long to wait for the service worker before saying this browser cannot subscribe. */
const WORKER_WAIT_MS = 10_000;

/**
 * Where this browser stands:
 * - `unsupported`: no notifications here at all;
 * - `blocked`: the person (or the browser) refused the permission: only the browser can undo it;
 * - `off`: not asked yet, or turned off here;
 * - `on`: permission and a push subscription, so notifications arrive with the tab closed;
 * - `failed`: permission but no subscription (the push service could not be reached): open tabs
 *   still notify while hidden.
 */
export type PushState = 'unsupported' | 'blocked' | 'off' | 'on' | 'failed';

/** Where this browser stands after a change, and why a change failed when the server said why. */
export type PushChange = { state: PushState; message?: string };

/** One of my subscribed browsers, as `GET /api/push/subscriptions` lists them. */
export type PushDevice = {
	id: string;
	label: string;
	createdAt: number;
	lastUsedAt: number | null;
	endpointHash: string;
};

const SUBSCRIPTIONS = '/api/push/subscriptions';

function notificationsSupported(): boolean {
	return typeof window !== 'undefined' && 'Notification' in window;
}

function pushSupported(): boolean {
	return notificationsSupported() && 'serviceWorker' in navigator && 'PushManager' in window;
}

/** Whether the person turned notifications on in this browser and has not turned them off. */
export function notificationsChosen(storage: Pick<Storage, 'getItem'> = localStorage): boolean {
	return storage.getItem(CHOICE_KEY) === 'on';
}

function choose(on: boolean): void {
	localStorage.setItem(CHOICE_KEY, on ? 'on' : 'off');
}

/** The service worker's registration, or null when none is active within a few seconds. */
async function registration(): Promise<ServiceWorkerRegistration | null> {
	if (!('serviceWorker' in navigator)) return null;
	const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), WORKER_WAIT_MS));
	return Promise.race([navigator.serviceWorker.ready, timeout]);
}

/** This browser's push subscription, if it has one. */
export async function currentSubscription(): Promise<PushSubscription | null> {
	if (!pushSupported()) return null;
	const found = await navigator.serviceWorker.getRegistration();
	return (await found?.pushManager.getSubscription()) ?? null;
}

/** Where this browser stands now (see `PushState`). */
export async function readPushState(): Promise<PushState> {
	if (!notificationsSupported()) return 'unsupported';
	if (Notification.permission === 'denied') return 'blocked';
	if (Notification.permission !== 'granted' || !notificationsChosen()) return 'off';
	return (await currentSubscription()) ? 'on' : 'failed';
}

/** The VAPID public key (base64url, as configured) as the bytes `subscribe` takes. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
	const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
	const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
	return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Asks for the permission (call from a click), subscribes this browser to push and gives the
 * subscription to the server under `label`. Answers where it stands then.
 */
export async function turnOn(vapidPublicKey: string | null, label: string): Promise<PushChange> {
	if (!notificationsSupported()) return { state: 'unsupported' };
	const permission = await Notification.requestPermission();
	if (permission === 'denied') return { state: 'blocked' };
	if (permission !== 'granted') return { state: 'off' };
	choose(true);
	if (!pushSupported() || !vapidPublicKey) return { state: 'failed' };
	const worker = await registration();
	if (!worker) return { state: 'failed' };
	let subscription: PushSubscription;
	try {
		subscription =
			(await worker.pushManager.getSubscription()) ??
			(await worker.pushManager.subscribe({
				userVisibleOnly: true,
				applicationServerKey: keyBytes(vapidPublicKey)
			}));
	} catch (error) {
		// Typically the browser's push service is out of reach (offline, blocked network).
		console.warn('could not subscribe to push', error);
		return { state: 'failed' };
	}
	const { endpoint, keys } = subscription.toJSON();
	const saved = await fetch(SUBSCRIPTIONS, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ endpoint, keys, label })
	}).catch(() => null);
	if (!saved?.ok) {
		// A subscription the server does not know would never be used: drop it, try again later.
		await subscription.unsubscribe().catch(() => false);
		return { state: 'failed', message: await refusalMessage(saved) };
	}
	return { state: 'on' };
}

/** What the server said when it refused (`{error: {message}}`), if it said anything. */
async function refusalMessage(response: Response | null): Promise<string | undefined> {
	const body = (await response?.json().catch(() => null)) as {
		error?: { message?: string };
	} | null;
	return body?.error?.message;
}

/** Turns notifications off in this browser: no more from open tabs, and no push subscription. */
export async function turnOff(): Promise<PushChange> {
	choose(false);
	const subscription = await currentSubscription();
	if (subscription) {
		const hash = await endpointHash(subscription.endpoint);
		const mine = (await listDevices())?.find((device) => device.endpointHash === hash);
		if (mine) await removeDevice(mine.id);
		await subscription.unsubscribe().catch(() => false);
	}
	return { state: await readPushState() };
}

/** My subscribed browsers; null when the list could not be read. */
export async function listDevices(): Promise<PushDevice[] | null> {
	const response = await fetch(SUBSCRIPTIONS).catch(() => null);
	if (!response?.ok) return null;
	const body = (await response.json()) as { subscriptions: PushDevice[] };
	return body.subscriptions;
}

/** Removes one of my subscribed browsers; answers whether it is gone. */
export async function removeDevice(id: string): Promise<boolean> {
	const response = await fetch(`${SUBSCRIPTIONS}/${encodeURIComponent(id)}`, {
		method: 'DELETE'
	}).catch(() => null);
	return response?.ok === true || response?.status === 404;
}

/** How the server names an endpoint without showing it: SHA-256, hex. */
export async function endpointHash(endpoint: string): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(endpoint));
	return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
