import { json } from '@sveltejs/kit';
import { listOwnDevices, registerDevice } from '$lib/server/e2ee/devices';
import { jsonRefusal, signedForJson, signedJsonChange } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * Registers this browser as an end-to-end encryption device of the signed-in person: JSON
 * `{ name, identityKey }` (its Ed25519 public key, base64). 201 `{ id, approved }`; its KeyPackages
 * follow at `/api/e2ee/devices/<id>/key-packages`, made with that id in their credential.
 * Refusals are `{ error: { code, message } }`.
 */
export const POST: RequestHandler = async (event) => {
	const request = await signedJsonChange(event);
	if (request instanceof Response) return request;
	const { signed, body } = request;
	const registered = await registerDevice(signed.db, signed.user.id, body);
	if (!registered.ok) return jsonRefusal(registered.status, registered.code, registered.message);
	return json({ id: registered.id, approved: registered.approved }, { status: 201 });
};

/**
 * The person's devices: `{ devices: [{ id, name, identityKey, createdAt, approved, removedAt }] }`,
 * pending and lately removed ones included.
 */
export const GET: RequestHandler = async (event) => {
	const signed = signedForJson(event);
	if (signed instanceof Response) return signed;
	const devices = await listOwnDevices(signed.db, signed.user.id);
	return json({ devices }, { headers: { 'cache-control': 'no-store' } });
};
