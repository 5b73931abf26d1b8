import { asc, eq } from 'drizzle-orm';
import type { Db } from './db';
import { memberships, users } from './db/schema';

export type RoomMember = {
	id: string;
	username: string;
	displayName: string;
	role: 'owner' | 'admin' | 'member';
};

/** Beyond this the member list shows the first ones; presence still covers everyone online. */
export const MEMBER_LIST_LIMIT = 500;

/** Who belongs to a room, for its member list, mentions and "seen by" names. */
export async function listRoomMembers(db: Db, roomId: string): Promise<RoomMember[]> {
	return db
		.select({
			id: users.id,
			username: users.username,
			displayName: users.displayName,
			role: memberships.role
		})
		.from(memberships)
		.innerJoin(users, eq(users.id, memberships.userId))
		.where(eq(memberships.roomId, roomId))
		.orderBy(asc(memberships.joinedAt))
		.limit(MEMBER_LIST_LIMIT);
}
