import { json } from '@sveltejs/kit';
import { submitCommit } from '$lib/server/e2ee/commits';
import { jsonRefusal, signedJsonChange } from '$lib/server/request-context';
import type { RequestHandler } from './$types';

/**
 * An MLS commit for this encrypted room's group (docs/e2ee.md): JSON `{ clientId, epoch, commit,
 * welcome?, adds? }` (the epoch it was made from; the devices it adds, whose welcome the room keeps).
 * 201 `{ seq }` when it took its place (200 for a resend of one taken before); 409 `stale_epoch` when
 * another commit from that epoch came first: apply the newer commits, then commit again.
 */
export const POST: RequestHandler = async (event) => {
	const request = await signedJsonChange(event);
	if (request instanceof Response) return request;
	const { signed, body } = request;
	const done = await submitCommit(signed.db, signed.env.ROOMS, signed.user, event.params.id, body);
	if (!done.ok) {
		const wait = 'retryAfterMs' in done ? done.retryAfterMs : undefined;
		const headers =
			wait !== undefined
				? { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))) }
				: undefined;
		return jsonRefusal(done.status, done.code, done.message, { headers });
	}
	return json({ seq: done.stored.seq }, { status: done.duplicate ? 200 : 201 });
};
