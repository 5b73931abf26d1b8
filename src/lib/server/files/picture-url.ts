// The URL of a profile picture or room icon, for the loads that show one: the file id that
// `users.avatar_key` / `rooms.icon_key` names, served by `/files/<id>` (see `pictures.ts`).
import { sql, type SQLWrapper } from 'drizzle-orm';
import { fileUrl } from './store';

/** The picture's URL, or null when there is none (the avatar shows initials). */
export function pictureUrl(fileId: string | null | undefined): string | null {
	return fileId ? fileUrl(fileId) : null;
}

/** The same URL computed in SQL from a column holding a file id, for queries that list people. */
export function pictureUrlColumn(fileId: SQLWrapper) {
	return sql<
		string | null
	>`case when ${fileId} is null then null else ${fileUrl('')} || ${fileId} end`;
}
