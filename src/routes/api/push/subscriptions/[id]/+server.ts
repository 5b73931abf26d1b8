import { removePushSubscription } from '$lib/server/notifications/push-subscriptions';
import { jsonRefusal, signedForJson } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/** Removes one of the signed-in person's devices: 204; another person's reads as 404. */
export const DELETE: RequestHandler = async (event) => {
	const signed = signedForJson(event, { change: true });
	if (signed instanceof Response) return signed;
	const removed = await removePushSubscription(signed.db, signed.user.id, event.params.id);
	if (!removed.ok) return jsonRefusal(removed.status, removed.code, removed.message);
	return new Response(null, { status: 204 });
};
