// A room's "Media and files": what was shared there, newest first, a page at a time. Only the
// files messages carry (a room's attachments with a `message_seq`: not uploads still waiting for
// a message, not profile pictures or room icons), and only for someone who may read the room now
// (the same `decideRoom(…, 'read')` as every file download). A range read of `files_room_idx`
// (room_id, created_at), walked backwards from a cursor.
import { and, desc, eq, isNotNull, lt, or } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { decideRoom, type RoomAccess } from '$lib/server/rooms/authz';
import { files, users } from '$shared/db/schema';
import { describeFile, type FileInfo } from './store';

/** Files on one page of the panel. */
export const MEDIA_PAGE_SIZE = 30;

export type MediaItem = FileInfo & {
	createdAt: number;
	/** The message that carries it, for a link to it in the timeline. */
	messageSeq: number;
	uploaderName: string;
};

export type MediaPage = {
	items: MediaItem[];
	/** The cursor of the next (older) page, or null when this one reaches the room's first file. */
	older: string | null;
};

type Cursor = { createdAt: number; id: string };

/** `<createdAt>:<id>` of the last file on a page: the next page starts after it. */
export function mediaCursor(item: { createdAt: number; id: string }): string {
	return `${item.createdAt}:${item.id}`;
}

/** A cursor from a URL; anything malformed reads as none (the newest page). */
export function parseMediaCursor(value: string | null | undefined): Cursor | null {
	const match = /^(\d{1,15}):([A-Za-z0-9_-]{1,64})$/.exec(value ?? '');
	return match ? { createdAt: Number(match[1]), id: match[2]! } : null;
}

/**
 * One page of the room's shared files, newest first (ties on the time broken by id), or null if
 * this person may not read the room. `before` is the cursor of the previous page's last file.
 */
export async function listRoomMedia(
	db: Db,
	access: RoomAccess,
	options: { before?: string | null; limit?: number } = {}
): Promise<MediaPage | null> {
	if (!decideRoom(access, 'read').ok || !access.room) return null;
	const limit = Math.max(1, Math.min(options.limit ?? MEDIA_PAGE_SIZE, 100));
	const before = parseMediaCursor(options.before);
	const rows = await db
		.select({ file: files, uploaderName: users.displayName })
		.from(files)
		.innerJoin(users, eq(users.id, files.uploaderId))
		.where(
			and(
				eq(files.roomId, access.room.id),
				eq(files.purpose, 'attachment'),
				isNotNull(files.messageSeq),
				before
					? or(
							lt(files.createdAt, before.createdAt),
							and(eq(files.createdAt, before.createdAt), lt(files.id, before.id))
						)
					: undefined
			)
		)
		.orderBy(desc(files.createdAt), desc(files.id))
		.limit(limit + 1);
	const items = rows.slice(0, limit).map(({ file, uploaderName }) => ({
		...describeFile(file),
		createdAt: file.createdAt,
		messageSeq: file.messageSeq!,
		uploaderName
	}));
	const last = items.at(-1);
	return { items, older: rows.length > limit && last ? mediaCursor(last) : null };
}
