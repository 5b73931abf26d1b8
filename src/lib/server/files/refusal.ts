// What a file operation answers when it refuses, and how the API route says it. File refusals are
// not room `Denial`s: their statuses (413, 415, 429) and codes belong to uploads alone.
import { json } from '@sveltejs/kit';

export type FileRefusalCode =
	| 'bad_input'
	| 'sign_in'
	| 'not_found'
	| 'empty_file'
	| 'too_large'
	| 'quota_exceeded'
	| 'unsupported_type'
	| 'rate_limited'
	/** Stored, but the room could not be told: deleted again, so nothing is left. Try again. */
	| 'unavailable';

export type FileRefusal = {
	ok: false;
	status: 400 | 401 | 404 | 413 | 415 | 429 | 503;
	code: FileRefusalCode;
	message: string;
	/** With `rate_limited`: when to try again. */
	retryAfterSeconds?: number;
};

/** `ok` with what was made or found, or a refusal that changed nothing. */
export type FileDone<T extends object> = ({ ok: true } & T) | FileRefusal;

export function refuseFile(
	status: FileRefusal['status'],
	code: FileRefusalCode,
	message: string,
	retryAfterSeconds?: number
): FileRefusal {
	return retryAfterSeconds === undefined
		? { ok: false, status, code, message }
		: { ok: false, status, code, message, retryAfterSeconds };
}

/**
 * A refusal as the JSON API answers it: `{ code, message }` with its status (and `Retry-After`
 * for a rate limit), whatever the request's `Accept` says. SvelteKit's `error()` negotiates and
 * may answer HTML, and cannot carry `Retry-After`.
 */
export function refusalResponse(refusal: FileRefusal): Response {
	const headers: Record<string, string> = {};
	if (refusal.retryAfterSeconds !== undefined) {
		headers['retry-after'] = String(refusal.retryAfterSeconds);
	}
	return json(
		{ code: refusal.code, message: refusal.message },
		{ status: refusal.status, headers }
	);
}
