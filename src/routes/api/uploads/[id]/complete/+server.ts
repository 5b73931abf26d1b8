import { signedInOrNull } from '$lib/server/request-context';
import { json } from '@sveltejs/kit';
import { fileLimits } from '$lib/server/files/limits';
import { completeUpload } from '$lib/server/files/multipart-complete';
import { refuseFile, refusalResponse } from '$lib/server/files/refusal';
import type { RequestHandler } from './$types';

/**
 * Completes an upload in parts once every part is there: the file is stored and its room told.
 * Answers 201 with the file's description, as `POST /api/rooms/<id>/files` does; asked again
 * after that, 200 with the same file.
 */
export const POST: RequestHandler = async (event) => {
	const signed = signedInOrNull(event);
	if (!signed) return refusalResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const { env, db, user } = signed;
	const done = await completeUpload(
		{ db, bucket: env.FILES, limits: fileLimits(env), rooms: env.ROOMS },
		user.id,
		event.params.id
	);
	if (!done.ok) return refusalResponse(done);
	return json(done.file, {
		status: done.created ? 201 : 200,
		headers: { location: done.file.url }
	});
};
