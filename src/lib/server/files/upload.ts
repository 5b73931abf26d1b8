// One file uploaded to a room in one request, as the web app's composer and the public API both
// send it: the raw bytes as the body, the name and what the browser measured in headers.
import type { Db } from '$lib/server/db';
import { fileLimits } from './limits';
import type { FileDone } from './refusal';
import { shareWithRoom } from './room';
import { storeUpload, type FileInfo } from './store';
import { parseUploadHeaders } from './upload-headers';

/**
 * Stores the request's body as a file of the room, then tells the room, which alone decides what
 * a message may carry. The name travels URI-encoded in `X-File-Name`, with optional
 * `X-File-Kind-Hint` (`audio`/`video`), `X-File-Width`, `X-File-Height` and `X-File-Placeholder`.
 * A refusal has stored nothing; if the room cannot be told, the file is deleted again (503).
 */
export async function uploadToRoom(
	env: Env,
	db: Db,
	uploaderId: string,
	roomId: string,
	request: Request
): Promise<FileDone<{ file: FileInfo }>> {
	const headers = parseUploadHeaders(request.headers);
	if (!headers.ok) return headers;
	const bucket = env.FILES;
	const stored = await storeUpload(
		{ db, bucket, limits: fileLimits(env) },
		{
			uploaderId,
			roomId,
			body: request.body,
			declaredLength: declaredLength(request),
			meta: headers.meta
		}
	);
	if (!stored.ok) return stored;
	const shared = await shareWithRoom(
		{ db, bucket, rooms: env.ROOMS },
		roomId,
		uploaderId,
		stored.file
	);
	return shared.ok ? stored : shared;
}

/** Content-Length, if the request had a valid one (a chunked upload has none). */
function declaredLength(request: Request): number | null {
	const header = request.headers.get('content-length');
	if (header === null || !/^\d{1,16}$/.test(header.trim())) return null;
	return Number(header);
}
