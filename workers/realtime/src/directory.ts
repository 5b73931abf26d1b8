import { drizzle } from 'drizzle-orm/d1';
import { eq } from 'drizzle-orm';
import { memberships, users } from '../../../shared/db/schema';

export type DirectoryEntry = { userId: string; username: string; name: string };

/**
 * The room's members as D1 has them, so that `@bob` resolves even before Bob has opened the room.
 * Read in the background, never on the path of a message.
 */
export async function loadMemberDirectory(
	db: D1Database,
	roomId: string
): Promise<DirectoryEntry[]> {
	return drizzle(db)
		.select({ userId: users.id, username: users.usernameKey, name: users.displayName })
		.from(memberships)
		.innerJoin(users, eq(users.id, memberships.userId))
		.where(eq(memberships.roomId, roomId));
}
