// Notifications shown by an open tab while it is hidden. A person with Parley open in a background
// tab gets no Web Push (the hub sends those only with no tab open), so the tab shows what the push
// would have: the same payload (`roomNotification`), the same tag per room, the same count rule.
// A visible tab shows nothing: the sidebar already says it.
import { goto } from '$app/navigation';
import type { HubFrame } from '$shared/protocol/hub';
import { roomNotification, type QuietHours } from '$shared/notify';
import { notificationsChosen } from './push-subscription';
import {
	nextNotification,
	shouldShowInTab,
	type RoomFrame,
	type TabState
} from './tab-notifications';

/** Notifications this tab made itself (no service worker), by tag: `new Notification` has no list. */
const ownNotifications = new Map<string, Notification>();

async function show(frame: RoomFrame): Promise<void> {
	const payload = roomNotification(frame);
	const worker = await navigator.serviceWorker?.getRegistration();
	if (worker?.active) {
		const [shown] = await worker.getNotifications({ tag: payload.tag });
		const next = nextNotification(payload, frame.seq, shown?.data);
		if (next) await worker.showNotification(next.title, next.options);
		return;
	}
	const shown = ownNotifications.get(payload.tag);
	const next = nextNotification(payload, frame.seq, shown?.data);
	if (!next) return;
	const notification = new Notification(next.title, next.options);
	ownNotifications.set(payload.tag, notification);
	notification.onclose = () => {
		if (ownNotifications.get(payload.tag) === notification) ownNotifications.delete(payload.tag);
	};
	notification.onclick = () => {
		window.focus();
		notification.close();
		void goto(next.options.data.url);
	};
}

let queue: Promise<void> = Promise.resolve();

/**
 * Shows one after another, and across my tabs one at a time: reading the shown notification's
 * count and replacing it must not interleave with another tab doing the same for the same signal
 * (that tab then finds the seq already shown and stays quiet).
 */
function showInTurn(frame: RoomFrame): void {
	const run = () =>
		navigator.locks
			? navigator.locks.request('parley:notifications', () => show(frame))
			: show(frame);
	queue = queue.then(run).catch((error) => console.warn('could not show a notification', error));
}

/**
 * Listens to the hub for news to notify about while this tab is hidden. `quiet` answers the
 * person's do-not-disturb settings as the page last loaded them. Answers the function that stops.
 */
export function startBrowserNotifications(
	hub: { onFrame(listener: (frame: HubFrame) => void): () => void },
	quiet: () => QuietHours
): () => void {
	if (typeof Notification === 'undefined') return () => {};
	return hub.onFrame((frame) => {
		const tab: TabState = {
			hidden: document.visibilityState !== 'visible',
			quiet: quiet(),
			permission: Notification.permission,
			chosen: notificationsChosen(),
			now: Date.now()
		};
		if (shouldShowInTab(frame, tab)) showInTurn(frame);
	});
}
