import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { getDb, platformEnv } from '$lib/server/db';
import { HISTORY_PAGE_SIZE, readHistory } from '$lib/server/history';
import { roomStub } from '$lib/server/realtime-door';
import { requireRoom } from '$lib/server/authz';
import type { RequestHandler } from './$types';

const SeqParam = v.optional(
	v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a non-negative integer'), v.transform(Number))
);
const Query = v.object({
	before: SeqParam,
	after: SeqParam,
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

/** A page of history: `?before=seq` pages backwards, `?after=seq` forwards, neither is the newest. */
export const GET: RequestHandler = async ({ locals, params, platform, url }) => {
	if (!locals.user) error(401, 'Sign in first.');
	const query = v.safeParse(Query, Object.fromEntries(url.searchParams));
	if (!query.success) error(400, `Bad query: ${query.issues[0].message}`);
	if (query.output.before !== undefined && query.output.after !== undefined) {
		error(400, 'Use either "before" or "after", not both.');
	}
	const env = platformEnv(platform);
	const db = getDb(env.DB);
	await requireRoom(db, locals.user.id, params.id, 'read');
	const { limit, ...cursor } = query.output;
	return json(await readHistory(db, roomStub(env.ROOMS, params.id), params.id, cursor, limit));
};
