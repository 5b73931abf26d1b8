// Serving a file's bytes over HTTP, inert. Every answer about a file (200, 206, 304, 416, HEAD)
// says: never sniff the type (`nosniff`), run nothing and load nothing even if opened as a page
// (`default-src 'none'; sandbox`), keep it out of shared caches and revalidate every time
// (`private, no-cache`: each revalidation passes the access check again, so a removed member's
// cached copy is not served to them without asking). Only raster images, audio and video are
// shown inline; everything else downloads.
import type { Db } from '$lib/server/db';
import { contentDisposition } from './names';
import { readStoredFile, readableFile, type ByteRange, type StoredFile } from './store';

export const FILE_RESPONSE_HEADERS = {
	'x-content-type-options': 'nosniff',
	'content-security-policy': "default-src 'none'; sandbox",
	'cache-control': 'private, no-cache'
} as const;

export type ServeOptions = {
	/** `?download=1`: always an attachment. */
	download: boolean;
	/**
	 * Serve a room's file only if the room is one of these (an API token limited to some rooms);
	 * other files (profile pictures) as ever.
	 */
	onlyRooms?: ReadonlySet<string> | null;
};

/**
 * The answer to a GET or HEAD for a file. The access check comes first, every time: a reader who
 * may not read the file's room gets the same 404 as for a file that never existed (so ids cannot
 * be probed), and only after it passes are `If-None-Match` (304) and `Range` considered.
 */
export async function serveFile(
	deps: { db: Db; bucket: R2Bucket },
	request: Request,
	fileId: string,
	userId: string | null,
	options: ServeOptions
): Promise<Response> {
	const file = await readableFile(deps.db, fileId, userId);
	if (!file) return notFoundResponse();
	if (options.onlyRooms && file.roomId !== null && !options.onlyRooms.has(file.roomId)) {
		return notFoundResponse();
	}

	const headers = new Headers({
		...FILE_RESPONSE_HEADERS,
		'content-type': servedType(file.type),
		'content-disposition': contentDisposition(dispositionOf(file, options), file.name),
		'accept-ranges': 'bytes',
		etag: etagOf(file)
	});
	if (matchesEtag(request.headers.get('if-none-match'), etagOf(file))) {
		return new Response(null, { status: 304, headers });
	}

	const range = rangeFor(request, file);
	if (range === 'unsatisfiable') {
		headers.set('content-range', `bytes */${file.size}`);
		return new Response(null, { status: 416, headers });
	}
	const status = range ? 206 : 200;
	const length = range ? range.length : file.size;
	headers.set('content-length', String(length));
	if (range) {
		headers.set(
			'content-range',
			`bytes ${range.offset}-${range.offset + range.length - 1}/${file.size}`
		);
	}
	if (request.method === 'HEAD') return new Response(null, { status, headers });

	const object = await readStoredFile(deps.bucket, file, range ?? undefined);
	if (!object) return notFoundResponse();
	return new Response(object.body, { status, headers });
}

/** What a file is served as: text is UTF-8 (it was checked to be), everything else as stored. */
function servedType(type: string): string {
	return type === 'text/plain' ? 'text/plain; charset=utf-8' : type;
}

function dispositionOf(file: StoredFile, options: ServeOptions): 'inline' | 'attachment' {
	if (options.download) return 'attachment';
	// Only raster images reach the bucket (SVG is refused), and these play in the browser's own
	// elements; a PDF or text file opened inline would be a page of our origin, however sandboxed.
	return file.kind === 'image' || file.kind === 'audio' || file.kind === 'video'
		? 'inline'
		: 'attachment';
}

/** A file's bytes never change under its id, so the id is a strong validator. */
function etagOf(file: StoredFile): string {
	return `"${file.id}"`;
}

/** RFC 9110 `If-None-Match`: `*`, or a list of tags compared weakly. */
function matchesEtag(header: string | null, etag: string): boolean {
	if (!header) return false;
	if (header.trim() === '*') return true;
	return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * The range to serve, from a `Range` header (RFC 9110 §14): null for the whole file (no header,
 * a malformed one, an `If-Range` that does not match, or several ranges: a multipart/byteranges
 * answer is more than media players need, so the whole file goes out with 200 instead).
 */
function rangeFor(request: Request, file: StoredFile): ByteRange | null | 'unsatisfiable' {
	const header = request.headers.get('range');
	if (!header) return null;
	const ifRange = request.headers.get('if-range');
	if (ifRange !== null && ifRange.trim() !== etagOf(file)) return null;
	return parseRange(header, file.size);
}

export function parseRange(header: string, size: number): ByteRange | null | 'unsatisfiable' {
	const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
	if (!match) return null;
	const specs = match[1]!.split(',');
	if (specs.length !== 1) return null;
	const spec = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(specs[0]!);
	if (!spec) return null;
	const [, first, last] = spec as unknown as [string, string, string];
	if (first === '' && last === '') return null;
	if (first === '') {
		// A suffix: the last n bytes (all of them if the file is shorter).
		const n = Number(last);
		if (n === 0) return 'unsatisfiable';
		const length = Math.min(n, size);
		return { offset: size - length, length };
	}
	const start = Number(first);
	if (last !== '' && Number(last) < start) return null;
	if (start >= size) return 'unsatisfiable';
	const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
	return { offset: start, length: end - start + 1 };
}

/** The answer for a file this reader may not see, or that does not exist: the same for both. */
function notFoundResponse(): Response {
	return new Response('There is no such file.', {
		status: 404,
		headers: { ...FILE_RESPONSE_HEADERS, 'content-type': 'text/plain; charset=utf-8' }
	});
}
