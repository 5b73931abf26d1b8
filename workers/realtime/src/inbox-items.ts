import { drizzle } from 'drizzle-orm/d1';
import { countUnreadByUser } from '../../../shared/db/notifications';
import { hubStub } from '../../../shared/objects';
import { parseStoredAttachments } from '../../../shared/protocol';
import { plainPreview } from '../../../shared/preview';
import type { FlushRow } from './flush';
import { hasBlocked, type Audience } from './room-audience';

/** An inbox row a new message makes for one person (see `notifications` in the schema). */
export type InboxItem = {
	userId: string;
	kind: 'mention' | 'reply' | 'direct';
	key: string;
	seq: number;
	actorId: string;
	preview: string;
	at: number;
	/** The person has the room open: the item is written already read. */
	read: boolean;
};

/** The kinds of message someone wrote: in an encrypted room the item says only who (docs/e2ee.md). */
const SAYS_SOMETHING: ReadonlySet<string> = new Set(['text', 'sealed']);

/**
 * The inbox items of a flush batch: for each message copied for the first time (not a system
 * message, not already deleted), one item per person it concerns: everyone else in a direct room;
 * in other rooms the members it mentions, and the author of the message it replies to. A person
 * gets one item per message, the first of direct, mention, reply that applies, and none from
 * someone they blocked or about their own message.
 */
export function inboxItems(
	roomId: string,
	rows: FlushRow[],
	audience: Audience,
	isOpen: (userId: string) => boolean
): InboxItem[] {
	const items: InboxItem[] = [];
	for (const row of rows) {
		const sender = row.senderId;
		if (!row.isNew || !SAYS_SOMETHING.has(row.kind) || row.deletedAt !== null || sender === null) {
			continue;
		}
		const concerned = new Map<string, InboxItem['kind']>();
		if (audience.kind === 'direct') {
			for (const userId of audience.levels.keys()) concerned.set(userId, 'direct');
		} else {
			for (const userId of JSON.parse(row.mentions) as string[]) {
				if (audience.levels.has(userId)) concerned.set(userId, 'mention');
			}
			const replied = row.repliedTo;
			if (replied && audience.levels.has(replied) && !concerned.has(replied)) {
				concerned.set(replied, 'reply');
			}
		}
		concerned.delete(sender);
		if (concerned.size === 0) continue;
		const preview = plainPreview({
			kind: row.kind,
			body: row.body,
			attachments: parseStoredAttachments(row.attachments)
		});
		for (const [userId, kind] of concerned) {
			if (hasBlocked(audience, userId, sender)) continue;
			items.push({
				userId,
				kind,
				key: kind === 'direct' ? `direct:${roomId}` : `${kind}:${roomId}:${row.seq}`,
				seq: row.seq,
				actorId: sender,
				preview,
				at: row.createdAt,
				read: isOpen(userId)
			});
		}
	}
	return items;
}

/**
 * The people who have a new unread inbox item learn their count in their open tabs. Best effort:
 * the bell is right again at the next page load. A hub with no tab drops it unread.
 */
export async function tellInboxes(
	db: D1Database,
	hubs: Env['HUBS'],
	userIds: string[]
): Promise<void> {
	try {
		const counts = await countUnreadByUser(drizzle(db), userIds);
		await Promise.allSettled(
			[...counts].map(([userId, unread]) =>
				hubStub(hubs, userId).notify(userId, { type: 'inbox', unread })
			)
		);
	} catch (err) {
		console.warn('telling inboxes failed', err);
	}
}
