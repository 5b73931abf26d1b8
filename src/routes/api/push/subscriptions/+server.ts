import { json } from '@sveltejs/kit';
import { isProduction } from '$lib/server/app-env';
import {
	listPushSubscriptions,
	savePushSubscription
} from '$lib/server/notifications/push-subscriptions';
import { jsonRefusal, signedForJson, signedJsonChange } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * This browser's Web Push subscription for the signed-in person. JSON `{ endpoint, keys: { p256dh,
 * auth }, label? }` (`PushSubscription.toJSON()` and a name for the device list). 201 `{ id }` when
 * new, 200 `{ id }` when the endpoint was known (its keys and label updated). Refusals are
 * `{ error: { code, message } }`.
 */
export const POST: RequestHandler = async (event) => {
	const request = await signedJsonChange(event);
	if (request instanceof Response) return request;
	const { signed, body } = request;
	const saved = await savePushSubscription(signed.db, signed.user.id, body, {
		production: isProduction(signed.env)
	});
	if (!saved.ok) return jsonRefusal(saved.status, saved.code, saved.message);
	return json({ id: saved.id }, { status: saved.created ? 201 : 200 });
};

/** The person's devices: `{ subscriptions: [{ id, label, createdAt, lastUsedAt, endpointHash }] }`. */
export const GET: RequestHandler = async (event) => {
	const signed = signedForJson(event);
	if (signed instanceof Response) return signed;
	const subscriptions = await listPushSubscriptions(signed.db, signed.user.id);
	return json({ subscriptions }, { headers: { 'cache-control': 'no-store' } });
};
