import { and, eq } from 'drizzle-orm';
import type { RoomTheme } from '$lib/ui/room-theme';
import type { Db } from '$lib/server/db';
import { memberships } from '$shared/db/schema';

/** Saves a member's own theme for a room; false when they are not a member (nothing changes). */
export async function setRoomTheme(
	db: Db,
	roomId: string,
	userId: string,
	theme: RoomTheme
): Promise<boolean> {
	const updated = await db
		.update(memberships)
		.set({ themeAccent: theme.accent, themeBackground: theme.background })
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)))
		.returning({ userId: memberships.userId });
	return updated.length > 0;
}
