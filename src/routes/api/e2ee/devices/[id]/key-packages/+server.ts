import { json } from '@sveltejs/kit';
import { publishKeyPackages, unclaimedKeyPackages } from '$lib/server/e2ee/key-packages';
import { jsonRefusal, signedForJson, signedJsonChange } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * Publishes KeyPackages of one of the signed-in person's devices: JSON `{ keyPackages: [base64] }`,
 * each an MLS key_package message whose credential names this device. All are kept or none:
 * 201 `{ unclaimed }`, or a refusal `{ error: { code, message } }` naming the first bad one.
 */
export const POST: RequestHandler = async (event) => {
	const request = await signedJsonChange(event);
	if (request instanceof Response) return request;
	const { signed, body } = request;
	const published = await publishKeyPackages(signed.db, signed.user.id, event.params.id, body);
	if (!published.ok) return jsonRefusal(published.status, published.code, published.message);
	return json({ unclaimed: published.unclaimed }, { status: 201 });
};

/** How many of the device's KeyPackages are left unclaimed: `{ unclaimed }`, to top them up. */
export const GET: RequestHandler = async (event) => {
	const signed = signedForJson(event);
	if (signed instanceof Response) return signed;
	const left = await unclaimedKeyPackages(signed.db, signed.user.id, event.params.id);
	if (!left.ok) return jsonRefusal(left.status, left.code, left.message);
	return json({ unclaimed: left.unclaimed }, { headers: { 'cache-control': 'no-store' } });
};
