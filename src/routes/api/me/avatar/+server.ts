import { getDb, platformEnv } from '$lib/server/db';
import { fileLimits } from '$lib/server/files/limits';
import {
	declaredLength,
	pictureResponse,
	removePicture,
	setPicture
} from '$lib/server/files/pictures';
import { refuseFile } from '$lib/server/files/refusal';
import type { RequestHandler } from './$types';

/**
 * The signed-in person's profile picture. POST: the body is the picture's raw bytes (a JPEG, PNG
 * or WebP the browser cropped and resized), answered 201 `{ url }`; it replaces the current one
 * at once. DELETE: back to initials, 204. Refusals are `{ code, message }`, having changed nothing.
 */
export const POST: RequestHandler = async ({ locals, platform, request }) => {
	if (!locals.user) return pictureResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const env = platformEnv(platform);
	const done = await setPicture(
		{ db: getDb(env.DB), bucket: env.FILES, limits: fileLimits(env) },
		{
			userId: locals.user.id,
			target: { purpose: 'avatar' },
			body: request.body,
			declaredLength: declaredLength(request)
		}
	);
	return pictureResponse(done);
};

export const DELETE: RequestHandler = async ({ locals, platform }) => {
	if (!locals.user) return pictureResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const env = platformEnv(platform);
	return pictureResponse(await removePicture(getDb(env.DB), locals.user.id, { purpose: 'avatar' }));
};
