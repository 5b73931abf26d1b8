import { json } from '@sveltejs/kit';
import { jsonRefusal, requireSignedIn } from '$lib/server/request-context';
import { listInbox, parseCursor } from '$lib/server/notifications/inbox';
import { countUnreadNotifications } from '$shared/db/notifications';
import type { RequestHandler } from './$types';

/**
 * A page of my notifications inbox, newest first: `?cursor=` is the `nextCursor` of the page
 * before (null on the last page). The unread count comes along for the bell.
 */
export const GET: RequestHandler = async (event) => {
	const { user, db } = requireSignedIn(event);
	const cursor = event.url.searchParams.get('cursor');
	if (cursor !== null && parseCursor(cursor) === null) {
		return jsonRefusal(400, 'bad_input', 'That cursor is not one this inbox gave.');
	}
	const [page, unread] = await Promise.all([
		listInbox(db, user.id, cursor),
		countUnreadNotifications(db, user.id)
	]);
	return json({ ...page, unread });
};
