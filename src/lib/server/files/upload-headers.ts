// What an upload request says about its file besides the bytes. The body is the file itself (not
// multipart/form-data, so nothing is parsed before the limits apply), and the rest travels in
// headers: the name (URI-encoded, as headers are Latin-1), and what the browser measured.
import * as v from 'valibot';
import { refuseFile, type FileDone } from './refusal';
import { sanitizeFileName } from './names';
import type { KindHint } from './types';

export const UploadHeader = {
	Name: 'x-file-name',
	KindHint: 'x-file-kind-hint',
	Width: 'x-file-width',
	Height: 'x-file-height',
	Placeholder: 'x-file-placeholder'
} as const;

/** Larger than any image or video a browser decodes; small enough to be a sane layout hint. */
export const MAX_DIMENSION = 65_535;
/** A thumbhash is about 25 bytes; base64 of up to 75 bytes leaves room for another small hash. */
export const MAX_PLACEHOLDER_LENGTH = 100;

/**
 * What an upload says of its file, field by field: one rule for the headers of an upload in one
 * request and the JSON that starts an upload in parts.
 */
export const UploadFields = {
	name: v.pipe(
		v.string('is required'),
		v.minLength(1, 'is required'),
		v.maxLength(1024, 'is too long')
	),
	kindHint: v.optional(v.picklist(['audio', 'video'], 'must be "audio" or "video"')),
	placeholder: v.optional(
		v.pipe(
			v.string(),
			v.maxLength(MAX_PLACEHOLDER_LENGTH, `must be at most ${MAX_PLACEHOLDER_LENGTH} characters`),
			v.regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
		)
	)
};

/** A measured width or height, as a number (JSON) ... */
export const Pixels = v.pipe(
	v.number('must be a number'),
	v.integer('must be a whole number of pixels'),
	v.minValue(1, 'must be at least 1'),
	v.maxValue(MAX_DIMENSION, `must be at most ${MAX_DIMENSION}`)
);

/** ... or as header text. */
const Dimension = v.optional(
	v.pipe(
		v.string(),
		v.regex(/^\d{1,5}$/, 'must be a whole number of pixels'),
		v.transform(Number),
		Pixels
	)
);

const Headers = v.object({
	name: UploadFields.name,
	kindHint: UploadFields.kindHint,
	width: Dimension,
	height: Dimension,
	placeholder: UploadFields.placeholder
});

const LABELS: Record<keyof v.InferInput<typeof Headers>, string> = {
	name: 'X-File-Name',
	kindHint: 'X-File-Kind-Hint',
	width: 'X-File-Width',
	height: 'X-File-Height',
	placeholder: 'X-File-Placeholder'
};

export type UploadMeta = {
	/** Sanitized. */
	name: string;
	kindHint?: KindHint;
	width?: number;
	height?: number;
	placeholder?: string;
};

/** Reads and validates the upload headers; a refusal names the header, never echoes its value. */
export function parseUploadHeaders(headers: globalThis.Headers): FileDone<{ meta: UploadMeta }> {
	const get = (name: string) => headers.get(name) ?? undefined;
	const parsed = v.safeParse(Headers, {
		name: get(UploadHeader.Name),
		kindHint: get(UploadHeader.KindHint),
		width: get(UploadHeader.Width),
		height: get(UploadHeader.Height),
		placeholder: get(UploadHeader.Placeholder)
	});
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const key = issue.path?.[0]?.key as keyof typeof LABELS | undefined;
		const label = key ? LABELS[key] : 'A header';
		return refuseFile(400, 'bad_input', `${label} ${issue.message}.`);
	}
	let name: string;
	try {
		name = decodeURIComponent(parsed.output.name);
	} catch {
		return refuseFile(400, 'bad_input', 'X-File-Name must be URI-encoded.');
	}
	const { kindHint, width, height, placeholder } = parsed.output;
	return { ok: true, meta: { name: sanitizeFileName(name), kindHint, width, height, placeholder } };
}
