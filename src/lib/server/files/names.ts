// File names: what we keep of the name an uploader gave, and how it goes back out in
// Content-Disposition. A name is shown to people and offered to their "Save as": it must not
// carry a path, control characters or direction overrides that make "gpj.exe" read "exe.jpg".

/** Names longer than this (in characters) are shortened, keeping their extension. */
export const MAX_NAME_LENGTH = 200;
const MAX_EXTENSION_LENGTH = 16;
const FALLBACK_NAME = 'file';

/**
 * The name as stored: its last path segment, without control, format (bidi) or line-separating
 * characters, whitespace collapsed, trimmed, at most `MAX_NAME_LENGTH` characters. An empty
 * result (or "." / "..") becomes "file".
 */
export function sanitizeFileName(raw: string): string {
	const lastSegment = raw.split(/[/\\]/).pop() ?? '';
	const cleaned = lastSegment
		.normalize('NFC')
		// Cc: control characters; Cf: format characters (bidi overrides, zero-width joiners...);
		// Zl/Zp: line and paragraph separators.
		.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
		.replace(/\s+/gu, ' ')
		.trim();
	if (cleaned === '' || cleaned === '.' || cleaned === '..') return FALLBACK_NAME;
	return shorten(cleaned);
}

function shorten(name: string): string {
	const chars = [...name];
	if (chars.length <= MAX_NAME_LENGTH) return name;
	const dot = name.lastIndexOf('.');
	const extension = dot > 0 ? [...name.slice(dot)] : [];
	if (extension.length > 1 && extension.length <= MAX_EXTENSION_LENGTH) {
		const base = [...name.slice(0, dot)].slice(0, MAX_NAME_LENGTH - extension.length);
		return base.join('').trimEnd() + extension.join('');
	}
	return chars.slice(0, MAX_NAME_LENGTH).join('').trimEnd();
}

/**
 * `Content-Disposition` for a stored name (RFC 6266): a quoted ASCII fallback for old clients
 * and the exact name as `filename*` in RFC 5987's UTF-8 percent-encoding.
 */
export function contentDisposition(disposition: 'inline' | 'attachment', name: string): string {
	const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
	return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/** Percent-encodes everything but RFC 5987's attr-char set. */
function encodeRfc5987(value: string): string {
	return encodeURIComponent(value).replace(
		/['()*]/g,
		(c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`
	);
}
