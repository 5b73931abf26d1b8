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
 * A group's or public room's icon, for whoever may change the room's name and description (its
 * admins); a direct room has none. POST: the body is the picture's raw bytes (JPEG, PNG or WebP),
 * answered 201 `{ url }`, replacing the current icon at once. DELETE: back to initials, 204.
 * Refusals are `{ code, message }`, having changed nothing.
 */
export const POST: RequestHandler = async ({ locals, platform, request, params }) => {
	if (!locals.user) return pictureResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const env = platformEnv(platform);
	const done = await setPicture(
		{ db: getDb(env.DB), bucket: env.FILES, limits: fileLimits(env) },
		{
			userId: locals.user.id,
			target: { purpose: 'icon', roomId: params.id },
			body: request.body,
			declaredLength: declaredLength(request)
		}
	);
	return pictureResponse(done);
};

export const DELETE: RequestHandler = async ({ locals, platform, params }) => {
	if (!locals.user) return pictureResponse(refuseFile(401, 'sign_in', 'Sign in first.'));
	const env = platformEnv(platform);
	return pictureResponse(
		await removePicture(getDb(env.DB), locals.user.id, { purpose: 'icon', roomId: params.id })
	);
};
