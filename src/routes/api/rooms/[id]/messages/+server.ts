import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireSignedIn } from '$lib/server/request-context';
import { HISTORY_PAGE_SIZE, readHistory, readHistoryAround } from '$lib/server/rooms/history';
import { roomStub } from '$shared/objects';
import { requireRoom } from '$lib/server/rooms/authz';
import type { RequestHandler } from './$types';

const SeqParam = v.optional(
	v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a non-negative integer'), v.transform(Number))
);
const Query = v.object({
	before: SeqParam,
	after: SeqParam,
	around: SeqParam,
	limit: v.optional(
		v.pipe(
			v.string(),
			v.regex(/^\d{1,3}$/, 'must be a number'),
			v.transform(Number),
			v.minValue(1),
			v.maxValue(HISTORY_PAGE_SIZE)
		)
	)
});

/**
 * A page of history: `?before=seq` pages backwards, `?after=seq` forwards, neither is the newest;
 * `?around=seq` is the window around one message (with `hasOlder` and `hasNewer`).
 */
export const GET: RequestHandler = async (event) => {
	const { params, url } = event;
	const { user, env, db } = requireSignedIn(event);
	const query = v.safeParse(Query, Object.fromEntries(url.searchParams));
	if (!query.success) error(400, `Bad query: ${query.issues[0].message}`);
	const { limit, around, ...cursor } = query.output;
	const cursors = [cursor.before, cursor.after, around].filter((c) => c !== undefined);
	if (cursors.length > 1) error(400, 'Use one of "before", "after" or "around".');
	await requireRoom(db, user.id, params.id, 'read');
	const room = roomStub(env.ROOMS, params.id);
	if (around !== undefined) {
		return json(await readHistoryAround(db, room, params.id, Math.max(1, around), limit));
	}
	return json(await readHistory(db, room, params.id, cursor, limit));
};
