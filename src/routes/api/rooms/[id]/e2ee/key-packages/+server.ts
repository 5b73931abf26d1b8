import { json } from '@sveltejs/kit';
import { claimKeyPackages } from '$lib/server/e2ee/key-packages';
import { jsonRefusal, signedJsonChange } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * Takes one KeyPackage of each device to add to this encrypted room's group: JSON
 * `{ devices: [id] }`, answered `{ keyPackages: [{ deviceId, keyPackage }] }` in the same order,
 * `keyPackage` null for a device that has none left. Each is handed out once. Refusals are
 * `{ error: { code, message } }` (429 with `Retry-After` when claiming too fast).
 */
export const POST: RequestHandler = async (event) => {
	const request = await signedJsonChange(event);
	if (request instanceof Response) return request;
	const { signed, body } = request;
	const claimed = await claimKeyPackages(signed.db, signed.user.id, event.params.id, body);
	if (!claimed.ok) {
		const headers =
			claimed.status === 429 ? { 'retry-after': String(claimed.retryAfterSeconds) } : undefined;
		return jsonRefusal(claimed.status, claimed.code, claimed.message, { headers });
	}
	return json({ keyPackages: claimed.keyPackages });
};
