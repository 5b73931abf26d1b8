import { signedInOrNull } from '$lib/server/files/multipart';
import { removePushSubscription } from '$lib/server/notifications/push-subscriptions';
import { isCrossSite, jsonRefusal } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/** Removes one of the signed-in person's devices: 204; another person's reads as 404. */
export const DELETE: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return jsonRefusal(401, 'sign_in', 'Sign in first.');
	if (isCrossSite(event.request)) {
		return jsonRefusal(403, 'forbidden', 'This can only be done from this site.');
	}
	const removed = await removePushSubscription(signed.db, signed.user.id, event.params.id);
	if (!removed.ok) return jsonRefusal(removed.status, removed.code, removed.message);
	return new Response(null, { status: 204 });
};
