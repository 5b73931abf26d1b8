// How much one file and one person may weigh, and how often a person may upload. The sizes come
// from `[vars]` in wrangler.toml; a deployment (or a test worker) without them gets the same
// defaults from here, so there is nothing to configure for development.
import { positiveInteger } from '$lib/server/app-env';
import type { RateLimitPolicy } from '$lib/server/rate-limit';

const MiB = 1024 * 1024;

/** The largest file by default: 25 MiB. One request carries it (Workers cap bodies at 100 MB). */
export const DEFAULT_FILE_MAX_BYTES = 25 * MiB;
/** What one person may keep in the bucket by default: 1 GiB over all their uploads. */
export const DEFAULT_FILE_QUOTA_BYTES = 1024 * MiB;

/** Uploads a person may start in ten minutes, stored or refused (the limiter counts both). */
export const UPLOAD_RATE_LIMIT = {
	name: 'upload:user',
	limit: 60,
	windowMs: 10 * 60_000
} as const satisfies RateLimitPolicy;

export type FileLimits = { maxBytes: number; quotaBytes: number };

/** The limits in force: the configured ones where they are positive integers, else the defaults. */
export function fileLimits(env: Partial<Pick<Env, 'FILE_MAX_BYTES' | 'FILE_QUOTA_BYTES'>>) {
	return {
		maxBytes: positiveInteger(env.FILE_MAX_BYTES) ?? DEFAULT_FILE_MAX_BYTES,
		quotaBytes: positiveInteger(env.FILE_QUOTA_BYTES) ?? DEFAULT_FILE_QUOTA_BYTES
	} satisfies FileLimits;
}

/** One rule for sizes in words, shared with the browser. */
export { describeBytes } from '$shared/bytes';
