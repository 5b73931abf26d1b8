import { signedInOrNull } from '$lib/server/request-context';
import { json } from '@sveltejs/kit';
import { fileLimits } from '$lib/server/files/limits';
import { startUpload } from '$lib/server/files/multipart';
import { refuseFile, refusalResponse } from '$lib/server/files/refusal';
import type { RequestHandler } from './$types';

/**
 * Starts an upload in parts to a room (for files above `MULTIPART_THRESHOLD_BYTES`). The body is
 * JSON: `{ name, size, kindHint?, width?, height?, placeholder? }`. Answers 201 with
 * `{ id, size, partSize, parts: [] }`; then `PUT /api/uploads/<id>/parts/<n>` for each part,
 * `POST /api/uploads/<id>/complete`. Refusals are `{ code, message }`, as for a single upload.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	let body: unknown;
	try {
		body = await event.request.json();
	} catch {
		return refusalResponse(refuseFile(400, 'bad_input', 'The body must be JSON.'));
	}
	const started = await startUpload(
		{ db: signed.db, limits: fileLimits(signed.env) },
		signed.user.id,
		event.params.id,
		body
	);
	if (!started.ok) return refusalResponse(started);
	return json(started.upload, {
		status: 201,
		headers: { location: `/api/uploads/${started.upload.id}` }
	});
};
