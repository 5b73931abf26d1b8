import { json } from '@sveltejs/kit';
import { roomDevices } from '$lib/server/e2ee/devices';
import { jsonRefusal, signedForJson } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * The devices of the room's members, for whoever may read the room (see `roomDevices`):
 * `{ devices: [{ userId, deviceId, name, identityKey, createdAt }], removed: [{ …, removedAt }] }`.
 * Refusals are the room's usual ones, as `{ error: { code, message } }`.
 */
export const GET: RequestHandler = async (event) => {
	const signed = signedForJson(event);
	if (signed instanceof Response) return signed;
	const listed = await roomDevices(signed.db, signed.user.id, event.params.id);
	if (!listed.ok) return jsonRefusal(listed.status, listed.code, listed.message);
	return json(
		{ devices: listed.devices, removed: listed.removed },
		{ headers: { 'cache-control': 'no-store' } }
	);
};
