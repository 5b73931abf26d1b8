import { error } from '@sveltejs/kit';
import { requireSignedIn } from '$lib/server/request-context';
import { getQuietHours } from '$lib/server/notifications/preferences';
import { exportHeaders, exportRoom, type RoomExportFormat } from '$lib/server/export/room-export';
import { roomStub } from '$shared/objects';
import { exportRefusal } from '$lib/server/export/rate';
import type { RequestHandler } from './$types';

/**
 * A room's whole history as a download (`?format=json` or `?format=html`), for its owner and
 * admins, or either person of a direct conversation; anyone else gets the room's usual refusal.
 * A link, not a form: a plain GET that saves a file, so it works without JavaScript. Under
 * `/api/` so that the service worker, which keeps a copy of the pages it fetches, never keeps one.
 */
export const GET: RequestHandler = async (event) => {
	const { user, env, db } = requireSignedIn(event);
	const refused = await exportRefusal(db, user.id);
	if (refused) return refused;
	const format = (event.url.searchParams.get('format') ?? 'html') as RoomExportFormat;
	const { timeZone } = await getQuietHours(db, user.id);
	const exported = await exportRoom(
		{ db, room: roomStub(env.ROOMS, event.params.id) },
		user,
		event.params.id,
		format,
		{ timeZone }
	);
	if (!exported.ok) error(exported.status, { message: exported.message, code: exported.code });
	return new Response(exported.body, { headers: exportHeaders(exported) });
};
