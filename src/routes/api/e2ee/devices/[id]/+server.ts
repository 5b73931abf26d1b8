import { removeDevice } from '$lib/server/e2ee/devices';
import { jsonRefusal, signedForJson } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * Removes one of the signed-in person's devices (from any of their sessions: a lost phone) and its
 * KeyPackages: 204, again for one already removed; another person's reads as 404.
 */
export const DELETE: RequestHandler = async (event) => {
	const signed = signedForJson(event, { change: true });
	if (signed instanceof Response) return signed;
	const removed = await removeDevice(signed.db, signed.user.id, event.params.id);
	if (!removed.ok) return jsonRefusal(removed.status, removed.code, removed.message);
	return new Response(null, { status: 204 });
};
