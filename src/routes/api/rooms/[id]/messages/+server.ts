import { error, json } from '@sveltejs/kit';
import * as v from 'valibot';
import { requireSignedIn } from '$lib/server/request-context';
import { HistoryQuery, readHistoryFor } from '$lib/server/rooms/history';
import { roomStub } from '$shared/objects';
import { requireRoom } from '$lib/server/rooms/authz';
import type { RequestHandler } from './$types';

/**
 * A page of history for the web app (`HistoryQuery`: before, after, around, limit). Scripts and
 * bots use `/api/v1/rooms/{id}/messages`, which reads through the same code.
 */
export const GET: RequestHandler = async (event) => {
	const { params, url } = event;
	const { user, env, db } = requireSignedIn(event);
	const query = v.safeParse(HistoryQuery, Object.fromEntries(url.searchParams));
	if (!query.success) error(400, `Bad query: ${query.issues[0].message}`);
	await requireRoom(db, user.id, params.id, 'read');
	return json(await readHistoryFor(db, roomStub(env.ROOMS, params.id), params.id, query.output));
};
