// When a notification may alert, and what it says: one rule for the tab that shows one while it is
// hidden, the service worker that shows a push, and the user hub that decides to send the push.
import * as v from 'valibot';
import type { RoomSignalReason } from './protocol/hub';
import { SEALED_PREVIEW } from './protocol';

/** A person's level for one room (`memberships.notify`). */
export type NotifyLevel = 'all' | 'mentions' | 'mute';

/**
 * Whether a level lets a reason alert. "Mentions" lets through what is addressed to the person:
 * mentions, replies to them and direct messages. "Mute" lets nothing through; the room still
 * counts as unread.
 */
export function levelAlerts(level: NotifyLevel, reason: RoomSignalReason): boolean {
	if (level === 'mute') return false;
	if (level === 'all') return true;
	return reason !== 'unread';
}

/** A person's do-not-disturb settings, as stored on `users`. */
export type QuietHours = {
	/** Minutes after midnight in `timeZone`; both null when there is no daily schedule. */
	dndStart: number | null;
	dndEnd: number | null;
	/** Paused until this time (ms); null when not paused. */
	dndUntil: number | null;
	timeZone: string;
};

export const NO_QUIET_HOURS: QuietHours = {
	dndStart: null,
	dndEnd: null,
	dndUntil: null,
	timeZone: 'UTC'
};

/** Minutes after midnight at `now` in a time zone; UTC when the zone is unknown to the runtime. */
export function minutesInZone(now: number, timeZone: string): number {
	let parts: Intl.DateTimeFormatPart[];
	try {
		parts = new Intl.DateTimeFormat('en-GB', {
			timeZone,
			hour: '2-digit',
			minute: '2-digit',
			hourCycle: 'h23'
		}).formatToParts(now);
	} catch {
		const date = new Date(now);
		return date.getUTCHours() * 60 + date.getUTCMinutes();
	}
	const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
	const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
	return hour * 60 + minute;
}

/** Whether do not disturb holds at `now`: paused, or inside the daily span (which may cross midnight). */
export function isQuiet(quiet: QuietHours, now: number): boolean {
	if (quiet.dndUntil !== null && now < quiet.dndUntil) return true;
	const { dndStart: start, dndEnd: end } = quiet;
	if (start === null || end === null || start === end) return false;
	const minute = minutesInZone(now, quiet.timeZone);
	return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** Whether a time zone name is one this runtime knows (the browser's is stored as reported). */
export function isTimeZone(name: string): boolean {
	try {
		new Intl.DateTimeFormat('en-GB', { timeZone: name });
		return true;
	} catch {
		return false;
	}
}

/**
 * What a notification about a room shows, built from a room signal. One per room: its tag is the
 * room's, so a burst updates one notification (the count adds up where it is shown).
 */
export const NotificationPayload = v.object({
	tag: v.string(),
	title: v.string(),
	body: v.string(),
	/** Where a click goes: the room, at the message. */
	url: v.string(),
	/** Messages it stands for; the notification shown adds this to the count it already had. */
	count: v.number(),
	at: v.number()
});
export type NotificationPayload = v.InferOutput<typeof NotificationPayload>;

export type RoomNews = {
	roomId: string;
	reason: RoomSignalReason;
	seq: number;
	at: number;
	senderName: string;
	preview: string;
	roomName: string;
	count: number;
};

/** The tag of a room's notification: one per room, replaced by the next. */
export function roomTag(roomId: string): string {
	return `room:${roomId}`;
}

/**
 * The notification for a room's news. An end-to-end encrypted message never carries its words
 * (the server has none to give: its preview is `SEALED_PREVIEW`), so it says who wrote, no more:
 * "Ana sent a message". The count shown is the caller's to add up.
 */
export function roomNotification(news: RoomNews) {
	const title = news.roomName ? `${news.senderName} in ${news.roomName}` : news.senderName;
	const what =
		news.reason === 'mention'
			? 'mentioned you'
			: news.reason === 'reply'
				? 'replied to you'
				: 'sent a message';
	const body =
		news.preview === SEALED_PREVIEW ? `${news.senderName} ${what}` : news.preview || what;
	return {
		tag: roomTag(news.roomId),
		title,
		body,
		url: `/rooms/${news.roomId}?m=${news.seq}`,
		count: news.count,
		at: news.at
	} satisfies NotificationPayload;
}

/** The line a notification standing for several messages shows above the last one. */
export function countLine(count: number): string {
	return count > 1 ? `${count} new messages` : '';
}
