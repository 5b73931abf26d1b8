import { knock } from '$lib/server/e2ee/commits';
import { jsonRefusal, signedForJson } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * One of my devices waits to be let into this encrypted room: the devices open in it are asked to
 * bring the group in step now. 204; 429 with `Retry-After` when asked too often.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedForJson(event, { change: true });
	if (signed instanceof Response) return signed;
	const done = await knock(signed.db, signed.env.ROOMS, signed.user.id, event.params.id);
	if (!done.ok) {
		const wait = 'retryAfterMs' in done ? done.retryAfterMs : undefined;
		const headers =
			wait !== undefined ? { 'retry-after': String(Math.ceil(wait / 1000)) } : undefined;
		return jsonRefusal(done.status, done.code, done.message, { headers });
	}
	return new Response(null, { status: 204 });
};
