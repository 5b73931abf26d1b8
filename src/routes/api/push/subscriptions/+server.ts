import { json } from '@sveltejs/kit';
import { isProduction } from '$lib/server/app-env';
import { signedInOrNull } from '$lib/server/files/multipart';
import {
	listPushSubscriptions,
	savePushSubscription
} from '$lib/server/notifications/push-subscriptions';
import { isCrossSite, jsonRefusal } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * This browser's Web Push subscription for the signed-in person. JSON `{ endpoint, keys: { p256dh,
 * auth }, label? }` (`PushSubscription.toJSON()` and a name for the device list). 201 `{ id }` when
 * new, 200 `{ id }` when the endpoint was known (its keys and label updated). Refusals are
 * `{ error: { code, message } }`.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return jsonRefusal(401, 'sign_in', 'Sign in first.');
	if (isCrossSite(event.request)) {
		return jsonRefusal(403, 'forbidden', 'This can only be done from this site.');
	}
	let body: unknown;
	try {
		body = await event.request.json();
	} catch {
		return jsonRefusal(400, 'bad_input', 'The body must be JSON.');
	}
	const saved = await savePushSubscription(signed.db, signed.user.id, body, {
		production: isProduction(signed.env)
	});
	if (!saved.ok) return jsonRefusal(saved.status, saved.code, saved.message);
	return json({ id: saved.id }, { status: saved.created ? 201 : 200 });
};

/** The person's devices: `{ subscriptions: [{ id, label, createdAt, lastUsedAt, endpointHash }] }`. */
export const GET: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return jsonRefusal(401, 'sign_in', 'Sign in first.');
	const subscriptions = await listPushSubscriptions(signed.db, signed.user.id);
	return json({ subscriptions }, { headers: { 'cache-control': 'no-store' } });
};
