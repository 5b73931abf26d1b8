// What an open tab decides about hub news: whether to show a notification, and which. Kept apart
// from the code that shows it (browser-notifications.ts) so the rules are tested on their own.
import type { HubFrame } from '$shared/protocol/hub';
import { isQuiet, type NotificationPayload, type QuietHours } from '$shared/notify';
import { combine } from '$lib/service-worker/notifications';

export type RoomFrame = Extract<HubFrame, { type: 'room' }>;

/** What the tab knows when a frame arrives. */
export type TabState = {
	hidden: boolean;
	quiet: QuietHours;
	permission: NotificationPermission;
	/** The person turned notifications on in this browser (and not off since). */
	chosen: boolean;
	now: number;
};

/** Whether this tab shows a notification for a hub frame. */
export function shouldShowInTab(frame: HubFrame, tab: TabState): frame is RoomFrame {
	return (
		frame.type === 'room' &&
		frame.alert &&
		tab.hidden &&
		tab.permission === 'granted' &&
		tab.chosen &&
		!isQuiet(tab.quiet, tab.now)
	);
}

/**
 * The notification to show now, given the data of the one already shown with that tag (if any):
 * the service worker's rule for a push (`combine`: the counts add up), plus the signal's seq, so
 * that a signal another of my tabs already showed is not counted twice. Null in that case.
 */
export function nextNotification(payload: NotificationPayload, seq: number, shownData: unknown) {
	const shownSeq = (shownData as { seq?: unknown } | null | undefined)?.seq;
	if (typeof shownSeq === 'number' && shownSeq >= seq) return null;
	const { title, options } = combine(payload, shownData);
	return { title, options: { ...options, data: { ...options.data, seq } } };
}
