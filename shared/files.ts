// How long an upload that no message carries may wait. Both sides of one rule, in one place: the
// realtime worker's cleanup job deletes such uploads after `UNATTACHED_FILE_MAX_AGE_MS`, and a
// room stops letting a send attach one after `UNATTACHED_FILE_CLAIM_MS`, earlier by a margin.
//
// The margin is for what the job cannot see: a send attaches a file in the room's SQLite at once,
// but `files.message_seq` reaches D1 only with the room's flush. A file attached just before the
// room's limit is safe as long as that flush lands within the margin (it normally lands within a
// second; while D1 fails it retries every 30 s at most) and the two machines' clocks agree to
// within it. Keep the claim age below the cleanup age.

const HOUR_MS = 60 * 60 * 1000;

/** The cleanup job deletes an upload no message carries once it is this old (by D1's `created_at`). */
export const UNATTACHED_FILE_MAX_AGE_MS = 24 * HOUR_MS;

/** A room refuses to attach an upload older than this (by the room's record), and forgets it. */
export const UNATTACHED_FILE_CLAIM_MS = UNATTACHED_FILE_MAX_AGE_MS - HOUR_MS;

/**
 * A profile picture or room icon that no person or room names (replaced, or its account or room
 * deleted) is deleted by the cleanup job once it is this old; the hour covers the moment between
 * storing a new picture and naming it.
 */
export const UNUSED_PICTURE_MAX_AGE_MS = HOUR_MS;

const MiB = 1024 * 1024;

/**
 * Files larger than this go up in parts (R2 multipart upload, `POST /api/rooms/<id>/uploads`);
 * smaller ones in one request. Below it a failed request costs little to send again; above it a
 * dropped connection or a reload should lose at most one part. Two parts' worth, so an upload in
 * parts always has at least two.
 */
export const MULTIPART_THRESHOLD_BYTES = 10 * MiB;

/**
 * The size of every part of an upload in parts but the last. R2 needs at least 5 MiB for each
 * part but the last, and the same size for all of them. The minimum keeps what a drop loses, and
 * what the app holds in memory per part request, small; a 20 MB file goes in four parts.
 */
export const MULTIPART_PART_BYTES = 5 * MiB;

/**
 * An upload in parts left unfinished this long is aborted (its parts deleted from R2, its rows
 * from D1) by the cleanup job: a day, like an upload no message carries.
 */
export const UNFINISHED_UPLOAD_MAX_AGE_MS = 24 * HOUR_MS;

/**
 * The media types Parley shows in place (a picture, a player) and their kind; any other file is
 * only downloaded. The server's allow list (`src/lib/server/files/types.ts`) names them from the
 * bytes; a browser reading an end-to-end encrypted file, which the server cannot see into, trusts
 * only these names from the sender and downloads anything else as bytes.
 */
export const MEDIA_KINDS: Readonly<Record<string, 'image' | 'video' | 'audio'>> = {
	'image/jpeg': 'image',
	'image/png': 'image',
	'image/webp': 'image',
	'image/gif': 'image',
	'image/avif': 'image',
	'video/mp4': 'video',
	'video/webm': 'video',
	'video/quicktime': 'video',
	'audio/mpeg': 'audio',
	'audio/ogg': 'audio',
	'audio/wav': 'audio',
	'audio/mp4': 'audio',
	'audio/webm': 'audio'
};

/**
 * What the server stores of a file uploaded to an end-to-end encrypted conversation: ciphertext,
 * so no type to find in it and no name to keep (the real ones travel inside the encrypted message).
 */
export const SEALED_FILE = { name: 'encrypted', type: 'application/octet-stream' } as const;
