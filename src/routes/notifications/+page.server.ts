import { fail, redirect } from '@sveltejs/kit';
import { field, requireSignedIn } from '$lib/server/request-context';
import {
	listInbox,
	markInboxRead,
	openInboxItem,
	parseCursor
} from '$lib/server/notifications/inbox';
import { INBOX_DEPENDENCY } from '$lib/inbox';
import type { Actions, PageServerLoad } from './$types';

/** The inbox's first page, or with `?cursor=` (the "Load more" link without script) a later one. */
export const load: PageServerLoad = async (event) => {
	event.depends(INBOX_DEPENDENCY);
	const { user, db } = requireSignedIn(event);
	const asked = event.url.searchParams.get('cursor');
	const cursor = asked !== null && parseCursor(asked) !== null ? asked : null;
	const page = await listInbox(db, user.id, cursor);
	return { ...page, later: cursor !== null };
};

export const actions = {
	/** Opening an item marks it read on the way to what it is about. */
	open: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		const id = field(await event.request.formData(), 'id');
		const url = id ? await openInboxItem(db, rt, user.id, id) : null;
		if (url === null) {
			return fail(404, { code: 'not_found', message: 'That notification is gone.' });
		}
		redirect(303, url);
	},
	readAll: async (event) => {
		const { user, db, rt } = requireSignedIn(event);
		await markInboxRead(db, rt, user.id, { all: true });
		redirect(303, '/notifications');
	}
} satisfies Actions;
