// The installed app's icon badge (Badging API): how many conversations have something unread. The
// tab's title and favicon say it in the tab (src/lib/ui/tab-badge.ts); this says it on the dock,
// the taskbar or the home screen.

/** The conversations the badge counts: those with unread messages, muted ones aside. */
export function unreadConversations(
	conversations: readonly { unread: number; notify: string }[]
): number {
	return conversations.filter((c) => c.unread > 0 && c.notify !== 'mute').length;
}

/** Shows `count` on the app's icon, or clears it at zero; nothing where badges are not supported. */
export function showAppBadge(count: number): void {
	if (typeof navigator === 'undefined' || !('setAppBadge' in navigator)) return;
	// Refused when the page may not badge (not installed, or a policy): nothing else to do then.
	const done = count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge();
	done.catch(() => {});
}
