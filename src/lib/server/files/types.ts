// What a file is, decided from its bytes alone: never from its name or the Content-Type the
// browser declared. `file-type` reads magic numbers (and looks inside zip and CFB containers for
// office documents); what it cannot name may still be plain text, which is checked here. Anything
// not on the allow list is refused, so nothing that a browser would run (HTML, SVG, XML, scripts,
// executables) is ever stored.
import { fileTypeFromBuffer } from 'file-type';
import { MEDIA_KINDS, SEALED_FILE } from '$shared/files';
import { refuseFile, type FileDone } from './refusal';

export type FileKind = 'image' | 'video' | 'audio' | 'document';
export const FILE_KINDS: readonly FileKind[] = ['image', 'video', 'audio', 'document'];

/** What the uploader may say about a media file's kind (a voice note recorded as WebM). */
export type KindHint = 'audio' | 'video';

export type DetectedType = { type: string; kind: FileKind };

/**
 * The allow list: every MIME type `file-type` may report that we store, and what we store it as.
 * Aliases are folded into one name (`audio/x-m4a` is `audio/mp4`), so each type is served one way.
 */
const ALLOWED: Record<string, DetectedType> = {
	...Object.fromEntries(Object.entries(MEDIA_KINDS).map(([type, kind]) => [type, { type, kind }])),
	'video/x-m4v': { type: 'video/mp4', kind: 'video' },
	'audio/x-m4a': { type: 'audio/mp4', kind: 'audio' },

	'application/pdf': { type: 'application/pdf', kind: 'document' },
	'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
		type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
		kind: 'document'
	},
	'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
		type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
		kind: 'document'
	},
	'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
		type: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
		kind: 'document'
	},
	'application/vnd.oasis.opendocument.text': {
		type: 'application/vnd.oasis.opendocument.text',
		kind: 'document'
	},
	'application/vnd.oasis.opendocument.spreadsheet': {
		type: 'application/vnd.oasis.opendocument.spreadsheet',
		kind: 'document'
	},
	'application/vnd.oasis.opendocument.presentation': {
		type: 'application/vnd.oasis.opendocument.presentation',
		kind: 'document'
	},
	// Legacy .doc/.xls/.ppt are Compound File Binary containers; file-type names only the container.
	'application/x-cfb': { type: 'application/x-cfb', kind: 'document' },
	'application/zip': { type: 'application/zip', kind: 'document' },
	'application/x-7z-compressed': { type: 'application/x-7z-compressed', kind: 'document' },
	'application/gzip': { type: 'application/gzip', kind: 'document' },
	'application/x-tar': { type: 'application/x-tar', kind: 'document' }
};

/**
 * Containers that hold sound alone as often as sound and picture: a WebM from MediaRecorder is a
 * voice note, an MP4 may be an .m4a. Their magic numbers are the same either way (file-type calls
 * every WebM a video), so the uploader's hint chooses between these two names, and only these:
 * a hint never turns anything else into media or adds a type to the allow list. Ogg is audio only
 * here (an Ogg video is not on the list), so a `video` hint on it changes nothing.
 */
const MEDIA_PAIRS: Record<string, Record<KindHint, string>> = {
	'video/webm': { audio: 'audio/webm', video: 'video/webm' },
	'audio/webm': { audio: 'audio/webm', video: 'video/webm' },
	'video/mp4': { audio: 'audio/mp4', video: 'video/mp4' },
	'audio/mp4': { audio: 'audio/mp4', video: 'video/mp4' }
};

const TEXT: DetectedType = { type: 'text/plain', kind: 'document' };

/**
 * A file of an end-to-end encrypted conversation: ciphertext the server cannot and does not look
 * into. Its type is decided by the room, never by its bytes, so no detection ever answers it.
 */
export const SEALED: DetectedType = { type: SEALED_FILE.type, kind: 'document' };

/** Decides what `bytes` are, or refuses them (`empty_file`, `unsupported_type`). */
export async function detectFileType(
	bytes: Uint8Array,
	hint?: KindHint
): Promise<FileDone<DetectedType>> {
	if (bytes.byteLength === 0) return refuseFile(400, 'empty_file', 'This file is empty.');
	const found = await fileTypeFromBuffer(bytes);
	let detected: DetectedType | undefined;
	if (found) {
		// Some types come with parameters ("audio/ogg; codecs=opus"): the list names the type alone.
		detected = ALLOWED[found.mime.split(';')[0]!.trim().toLowerCase()];
	} else if (isPlainText(bytes)) {
		detected = TEXT;
	}
	if (!detected) return unsupported();
	const pair = hint ? MEDIA_PAIRS[detected.type] : undefined;
	if (pair && hint) return { ok: true, type: pair[hint], kind: hint };
	return { ok: true, ...detected };
}

function unsupported() {
	return refuseFile(
		415,
		'unsupported_type',
		'This kind of file cannot be shared. Send images (JPEG, PNG, WebP, GIF, AVIF), video, audio, ' +
			'PDF, text, office documents or archives (zip, 7z, gz, tar).'
	);
}

/**
 * Plain text: valid UTF-8 without NUL bytes that does not start like markup. A browser that
 * sniffed a text file beginning with a tag could take it for HTML, SVG or XML; such a file is one
 * in disguise (we serve text with `nosniff` as an attachment anyway, but never store it).
 */
export function isPlainText(bytes: Uint8Array): boolean {
	if (bytes.includes(0)) return false;
	let text: string;
	try {
		text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
	} catch {
		return false;
	}
	return !startsLikeMarkup(text);
}

/** After leading whitespace, `<` followed by a letter, `!`, `?` or `/`: a tag, a doctype, `<?xml`. */
function startsLikeMarkup(text: string): boolean {
	return /^\s*<[a-z!?/]/i.test(text);
}
