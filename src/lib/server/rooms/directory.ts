// The public room directory: every public room, searchable by name, biggest first.
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { memberships, rooms } from '$shared/db/schema';
import { pictureUrlColumn } from '$lib/server/files/picture-url';

export const DIRECTORY_PAGE_SIZE = 50;

export type DirectoryRoom = {
	id: string;
	name: string;
	/** The room's icon (`/files/<id>`), or null: initials. */
	picture: string | null;
	description: string;
	memberCount: number;
	joined: boolean;
};

export async function listPublicRooms(
	db: Db,
	userId: string,
	query = ''
): Promise<DirectoryRoom[]> {
	const q = query.trim().toLowerCase();
	const rows = await db
		.select({
			id: rooms.id,
			name: rooms.name,
			picture: pictureUrlColumn(rooms.iconKey),
			description: rooms.description,
			memberCount: rooms.memberCount,
			me: memberships.userId
		})
		.from(rooms)
		.leftJoin(memberships, and(eq(memberships.roomId, rooms.id), eq(memberships.userId, userId)))
		.where(
			and(
				eq(rooms.kind, 'public'),
				q ? sql`lower(${rooms.name}) LIKE ${`%${escapeLike(q)}%`} ESCAPE '\\'` : undefined
			)
		)
		.orderBy(desc(rooms.memberCount), asc(sql`lower(${rooms.name})`))
		.limit(DIRECTORY_PAGE_SIZE);
	return rows.map(({ me, ...room }) => ({ ...room, joined: me !== null }));
}

/** `%` and `_` typed by a person are literal characters, not wildcards. */
export function escapeLike(text: string): string {
	return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
