import { json } from '@sveltejs/kit';
import * as v from 'valibot';
import { isCrossSite, jsonRefusal, requireSignedIn } from '$lib/server/request-context';
import { markInboxRead, MAX_READ_IDS } from '$lib/server/notifications/inbox';
import type { RequestHandler } from './$types';

const ReadRequest = v.union([
	v.strictObject({
		ids: v.pipe(
			v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(64))),
			v.minLength(1),
			v.maxLength(MAX_READ_IDS)
		)
	}),
	v.strictObject({ all: v.literal(true) })
]);

/**
 * Marks my items read: `{ ids }` (ids of anyone else's items change nothing) or `{ all: true }`.
 * Answers my unread count; my other tabs hear it through the user hub.
 */
export const POST: RequestHandler = async (event) => {
	const { user, db, rt } = requireSignedIn(event);
	if (isCrossSite(event.request)) {
		return jsonRefusal(403, 'forbidden', 'This can only be done from this site.');
	}
	const body: unknown = await event.request.json().catch(() => undefined);
	const parsed = v.safeParse(ReadRequest, body);
	if (!parsed.success) {
		return jsonRefusal(
			400,
			'bad_input',
			`Send { "ids": [...] } (at most ${MAX_READ_IDS}) or { "all": true }.`
		);
	}
	const unread = await markInboxRead(db, rt, user.id, parsed.output);
	return json({ unread });
};
