import { signedInOrNull } from '$lib/server/request-context';
import { json } from '@sveltejs/kit';
import { cancelUpload, uploadStatus } from '$lib/server/files/multipart';
import { refuseFile, refusalResponse } from '$lib/server/files/refusal';
import type { RequestHandler } from './$types';

/** An upload in parts, for its uploader: `{ id, size, partSize, parts: [{ partNumber, size }] }`. */
export const GET: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const status = await uploadStatus(signed.db, signed.user.id, event.params.id);
	if (!status.ok) return refusalResponse(status);
	return json(status.upload, { headers: { 'cache-control': 'no-store' } });
};

/** The uploader discards an upload in parts: its parts are deleted. 204. */
export const DELETE: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const done = await cancelUpload(
		{ db: signed.db, bucket: signed.env.FILES },
		signed.user.id,
		event.params.id
	);
	if (!done.ok) return refusalResponse(done);
	return new Response(null, { status: 204 });
};
