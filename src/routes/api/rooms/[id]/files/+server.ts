import { isHttpError, json } from '@sveltejs/kit';
import { requireSignedIn } from '$lib/server/request-context';
import { fileLimits } from '$lib/server/files/limits';
import { refuseFile, refusalResponse } from '$lib/server/files/refusal';
import { shareWithRoom } from '$lib/server/files/room';
import { storeUpload } from '$lib/server/files/store';
import { parseUploadHeaders } from '$lib/server/files/upload-headers';
import type { RequestHandler } from './$types';

/**
 * Uploads one file to a room. The body is the file's raw bytes; its name travels URI-encoded in
 * `X-File-Name`, with optional `X-File-Kind-Hint` (`audio`/`video`, for media containers that may
 * hold either), `X-File-Width`, `X-File-Height` and `X-File-Placeholder` (what the browser
 * measured). Answers 201 with the file's description, or `{ code, message }` having stored nothing.
 * A stored file is then told to its room, which alone decides what a message may carry; if the
 * room cannot be told, the file is deleted again and the answer is 503.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedIn(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const { user, env, db } = signed;
	const { request, params } = event;
	const headers = parseUploadHeaders(request.headers);
	if (!headers.ok) return refusalResponse(headers);
	const bucket = env.FILES;
	const stored = await storeUpload(
		{ db, bucket, limits: fileLimits(env) },
		{
			uploaderId: user.id,
			roomId: params.id,
			body: request.body,
			declaredLength: declaredLength(request),
			meta: headers.meta
		}
	);
	if (!stored.ok) return refusalResponse(stored);
	const shared = await shareWithRoom(
		{ db, bucket, rooms: env.ROOMS },
		params.id,
		user.id,
		stored.file
	);
	if (!shared.ok) return refusalResponse(shared);
	return json(stored.file, { status: 201, headers: { location: stored.file.url } });
};

/** Content-Length, if the request had a valid one (a chunked upload has none). */
function declaredLength(request: Request): number | null {
	const header = request.headers.get('content-length');
	if (header === null || !/^\d{1,16}$/.test(header.trim())) return null;
	return Number(header);
}

/** `requireSignedIn`, with its refusal kept as a value, to answer it in this route's JSON shape. */
function signedIn(event: Parameters<typeof requireSignedIn>[0]) {
	try {
		return requireSignedIn(event);
	} catch (e) {
		if (isHttpError(e) && e.status === 401) return null;
		throw e;
	}
}
