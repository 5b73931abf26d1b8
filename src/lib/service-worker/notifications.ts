// What the service worker does with a push and with a click on the notification it showed, kept
// apart from the worker's event wiring so that the choices (combine a burst, stay quiet for the
// room being read, which window a click reuses) can be tested without a browser.
import * as v from 'valibot';
import { countLine, NotificationPayload } from '$shared/notify';

/** What a shown notification carries in `data`: where a click goes, and the messages it stands for. */
export const ShownData = v.object({ url: v.string(), count: v.number() });
export type ShownData = v.InferOutput<typeof ShownData>;

/** The small pictures of a notification, from the manifest's icons. */
export const NOTIFICATION_ICON = '/icons/icon-192.png';
export const NOTIFICATION_BADGE = '/icons/badge-96.png';

/** The payload of a push, or null when it is not one of ours (a push service's test, a bad body). */
export function readPush(data: { json(): unknown } | null): NotificationPayload | null {
	if (!data) return null;
	try {
		const parsed = v.safeParse(NotificationPayload, data.json());
		return parsed.success ? parsed.output : null;
	} catch {
		return null;
	}
}

/**
 * The notification to show for a payload, given the one already shown with the same tag (if any):
 * one per room, its count the sum of the burst's, its body the count above the last line.
 */
export function combine(payload: NotificationPayload, shownData: unknown) {
	const shown = v.safeParse(ShownData, shownData);
	const count = (shown.success ? shown.output.count : 0) + payload.count;
	const body = count > 1 ? `${countLine(count)}\n${payload.body}` : payload.body;
	const data: ShownData = { url: payload.url, count };
	return {
		title: payload.title,
		options: {
			tag: payload.tag,
			body,
			data,
			icon: NOTIFICATION_ICON,
			badge: NOTIFICATION_BADGE,
			timestamp: payload.at
		} satisfies NotificationOptions & { timestamp: number }
	};
}

/** The parts of a window client these choices look at. */
export type WindowLike = {
	url: string;
	focused: boolean;
	visibilityState: DocumentVisibilityState;
};

/** Whether two addresses show the same page of the app (the `?m=` of a message aside). */
function samePage(a: string, b: string): boolean {
	const x = new URL(a);
	const y = new URL(b);
	return x.origin === y.origin && x.pathname === y.pathname;
}

/**
 * Whether someone is reading the room right now: a window on it, focused and visible. Its timeline
 * already shows the message; a notification would only interrupt.
 */
export function readingRoom(windows: readonly WindowLike[], url: string): boolean {
	return windows.some((w) => w.focused && w.visibilityState === 'visible' && samePage(w.url, url));
}

/** The window a click should bring forward: one on the room already, else the focused one, else any. */
export function pickWindow<W extends WindowLike>(windows: readonly W[], url: string): W | null {
	return (
		windows.find((w) => samePage(w.url, url)) ??
		windows.find((w) => w.focused) ??
		windows[0] ??
		null
	);
}

type Opener<W> = {
	matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly W[]>;
	openWindow(url: string): Promise<unknown>;
};
type Focusable<W> = WindowLike & { focus(): Promise<W>; navigate(url: string): Promise<unknown> };

/**
 * A click on a notification: the room in a window of the app already open (brought forward and
 * navigated), or in a new one. A window the worker does not control cannot be navigated by it,
 * and focus can be refused (a click is needed): either way the room still opens, in a new window.
 */
export async function openFromNotification<W extends Focusable<W>>(
	clients: Opener<W>,
	origin: string,
	data: unknown
): Promise<void> {
	const shown = v.safeParse(ShownData, data);
	const url = new URL(shown.success ? shown.output.url : '/', origin).href;
	const windows = await clients.matchAll({ type: 'window', includeUncontrolled: true });
	const target = pickWindow(windows, url);
	if (target) {
		const focused = await target.focus().catch(() => target);
		const moved = await focused.navigate(url).then(
			() => true,
			() => false
		);
		if (moved) return;
	}
	await clients.openWindow(url);
}
