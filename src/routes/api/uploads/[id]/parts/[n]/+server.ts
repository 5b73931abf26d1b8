import { signedInOrNull } from '$lib/server/request-context';
import { json } from '@sveltejs/kit';
import { receivePart } from '$lib/server/files/multipart';
import { refuseFile, refusalResponse } from '$lib/server/files/refusal';
import type { RequestHandler } from './$types';

/**
 * Part `n` (from 1) of an upload in parts, as the raw body: exactly the upload's `partSize`
 * bytes, or the rest of the file for the last part. Sending a part again replaces it. The first
 * part decides the file's type. Answers 200 `{ partNumber, size }`.
 */
export const PUT: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const { request, params } = event;
	const received = await receivePart(
		{ db: signed.db, bucket: signed.env.FILES },
		signed.user.id,
		params.id,
		{ partNumber: params.n, body: request.body, declaredLength: declaredLength(request) }
	);
	if (!received.ok) return refusalResponse(received);
	return json(received.part);
};

/** Content-Length, if the request had a valid one. */
function declaredLength(request: Request): number | null {
	const header = request.headers.get('content-length');
	if (header === null || !/^\d{1,16}$/.test(header.trim())) return null;
	return Number(header);
}
