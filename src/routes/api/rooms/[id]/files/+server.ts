import { isHttpError, json } from '@sveltejs/kit';
import { requireSignedIn } from '$lib/server/request-context';
import { refuseFile, refusalResponse } from '$lib/server/files/refusal';
import { uploadToRoom } from '$lib/server/files/upload';
import type { RequestHandler } from './$types';

/**
 * Uploads one file to a room (see `uploadToRoom` for the body and headers). Answers 201 with the
 * file's description, or `{ code, message }` having stored nothing.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedIn(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const { user, env, db } = signed;
	const uploaded = await uploadToRoom(env, db, user.id, event.params.id, event.request);
	if (!uploaded.ok) return refusalResponse(uploaded);
	return json(uploaded.file, { status: 201, headers: { location: uploaded.file.url } });
};

/** `requireSignedIn`, with its refusal kept as a value, to answer it in this route's JSON shape. */
function signedIn(event: Parameters<typeof requireSignedIn>[0]) {
	try {
		return requireSignedIn(event);
	} catch (e) {
		if (isHttpError(e) && e.status === 401) return null;
		throw e;
	}
}
