// Turns a flat, seq-ordered message list into what the timeline draws: day separators, an optional
// "new messages" divider, and runs of messages by one author close together in time.
import type { MessageKind } from '$shared/protocol';

export type TimelineMessage = {
	senderId: string | null;
	createdAt: number;
	kind?: MessageKind;
	seq?: number;
};

export type TimelineItem<M extends TimelineMessage> =
	| { type: 'day'; key: string; at: number }
	| { type: 'new'; key: string }
	| { type: 'group'; key: string; senderId: string | null; system: boolean; messages: M[] };

export type TimelineOptions = {
	/** Messages by one author this close to the previous one join its group. */
	groupWithinMs?: number;
	/** Messages with a seq above this are unread: a "new messages" divider goes before them. */
	lastReadSeq?: number;
	/**
	 * Day separators (and groups split at midnight); off, the result does not depend on the time
	 * zone, so the server's render and the browser's first one agree.
	 */
	days?: boolean;
};

export const GROUP_WITHIN_MS = 5 * 60_000;

/** The local calendar day of a timestamp, as a stable key ("2026-11-21"). */
export function dayKey(at: number): string {
	const d = new Date(at);
	const month = String(d.getMonth() + 1).padStart(2, '0');
	const day = String(d.getDate()).padStart(2, '0');
	return `${d.getFullYear()}-${month}-${day}`;
}

export function buildTimeline<M extends TimelineMessage>(
	messages: readonly M[],
	options: TimelineOptions = {}
): TimelineItem<M>[] {
	const within = options.groupWithinMs ?? GROUP_WITHIN_MS;
	const items: TimelineItem<M>[] = [];
	let group: Extract<TimelineItem<M>, { type: 'group' }> | null = null;
	let day: string | null = null;
	let dividerPlaced = options.lastReadSeq === undefined;
	const days = options.days ?? true;

	for (const message of messages) {
		const system = message.kind === 'system';
		const today = days ? dayKey(message.createdAt) : '';
		const startsDay = days && today !== day;
		if (startsDay) {
			day = today;
			items.push({ type: 'day', key: `day-${today}`, at: message.createdAt });
		}
		const unread =
			!dividerPlaced && message.seq !== undefined && message.seq > (options.lastReadSeq ?? 0);
		if (unread) {
			dividerPlaced = true;
			items.push({ type: 'new', key: 'new-messages' });
		}
		const last = group?.messages.at(-1);
		const joins =
			group !== null &&
			last !== undefined &&
			!startsDay &&
			!unread &&
			!system &&
			!group.system &&
			group.senderId === message.senderId &&
			message.createdAt - last.createdAt <= within;
		if (joins && group) {
			group.messages.push(message);
		} else {
			const key = `group-${message.seq ?? `${message.createdAt}-${items.length}`}`;
			group = { type: 'group', key, senderId: message.senderId, system, messages: [message] };
			items.push(group);
		}
	}
	return items;
}

const DAY_MS = 86_400_000;

/** "Today", "Yesterday", a weekday within the week, else a date (with the year if not this one). */
export function dayLabel(at: number, now: number = Date.now(), locale?: string): string {
	const startOf = (t: number) => {
		const d = new Date(t);
		return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
	};
	const days = Math.round((startOf(now) - startOf(at)) / DAY_MS);
	if (days === 0) return 'Today';
	if (days === 1) return 'Yesterday';
	const date = new Date(at);
	if (days > 1 && days < 7) return date.toLocaleDateString(locale, { weekday: 'long' });
	const sameYear = date.getFullYear() === new Date(now).getFullYear();
	return date.toLocaleDateString(locale, {
		weekday: 'short',
		day: 'numeric',
		month: 'long',
		...(sameYear ? {} : { year: 'numeric' })
	});
}
