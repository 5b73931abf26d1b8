// The pure parts of file handling: the type rule, names, ranges, the upload headers, the limits.
import { describe, expect, it } from 'vitest';
import { detectFileType, isPlainText } from '$lib/server/files/types';
import { contentDisposition, sanitizeFileName, MAX_NAME_LENGTH } from '$lib/server/files/names';
import { parseRange } from '$lib/server/files/serve';
import { parseUploadHeaders } from '$lib/server/files/upload-headers';
import {
	DEFAULT_FILE_MAX_BYTES,
	DEFAULT_FILE_QUOTA_BYTES,
	describeBytes,
	fileLimits
} from '$lib/server/files/limits';
import {
	DOCX,
	ELF,
	GIF,
	HTML,
	JPEG,
	MP3,
	PDF,
	PNG,
	SVG,
	SVG_XML,
	TEXT,
	WEBM,
	ZIP
} from './support';

describe('the type of a file comes from its bytes', () => {
	it.each([
		['PNG', PNG, 'image/png', 'image'],
		['GIF', GIF, 'image/gif', 'image'],
		['JPEG', JPEG, 'image/jpeg', 'image'],
		['PDF', PDF, 'application/pdf', 'document'],
		['WebM', WEBM, 'video/webm', 'video'],
		['MP3', MP3, 'audio/mpeg', 'audio'],
		['text', TEXT, 'text/plain', 'document'],
		[
			'docx',
			DOCX,
			'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
			'document'
		],
		['zip', ZIP, 'application/zip', 'document']
	])('%s is accepted as what it is', async (_, data, type, kind) => {
		expect(await detectFileType(data)).toEqual({ ok: true, type, kind });
	});

	it.each([
		['HTML', HTML],
		['SVG with a script', SVG],
		['SVG behind an XML declaration', SVG_XML],
		['an executable', ELF],
		['bytes that are not UTF-8', Uint8Array.from([0xc3, 0x28, 0xff, 0xfe, 0x01])],
		['text with a NUL byte', new TextEncoder().encode('a\0b')]
	])('%s is refused as unsupported', async (_, data) => {
		const result = await detectFileType(data);
		expect(result).toMatchObject({ ok: false, status: 415, code: 'unsupported_type' });
		expect(result.ok || result.message).toMatch(/cannot be shared/);
	});

	it('refuses zero bytes', async () => {
		expect(await detectFileType(new Uint8Array(0))).toMatchObject({
			ok: false,
			status: 400,
			code: 'empty_file'
		});
	});

	it('lets a hint choose audio or video for a media container, and nothing more', async () => {
		expect(await detectFileType(WEBM, 'audio')).toEqual({
			ok: true,
			type: 'audio/webm',
			kind: 'audio'
		});
		expect(await detectFileType(WEBM, 'video')).toEqual({
			ok: true,
			type: 'video/webm',
			kind: 'video'
		});
		// A hint never makes media of something else, nor lets a refused type in.
		expect(await detectFileType(PNG, 'video')).toEqual({
			ok: true,
			type: 'image/png',
			kind: 'image'
		});
		expect(await detectFileType(MP3, 'video')).toEqual({
			ok: true,
			type: 'audio/mpeg',
			kind: 'audio'
		});
		expect(await detectFileType(HTML, 'audio')).toMatchObject({
			ok: false,
			code: 'unsupported_type'
		});
	});

	it('takes text that starts like markup for markup', () => {
		expect(isPlainText(new TextEncoder().encode('  \n<html>'))).toBe(false);
		expect(isPlainText(new TextEncoder().encode('\uFEFF<!-- x -->'))).toBe(false);
		expect(isPlainText(new TextEncoder().encode('a < b, and 3 > 2\n'))).toBe(true);
	});
});

describe('file names', () => {
	it('keeps the last path segment, without control or direction characters', () => {
		expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
		expect(sanitizeFileName('C:\\Users\\me\\photo.jpg')).toBe('photo.jpg');
		expect(sanitizeFileName('inv\u202Egpj.exe')).toBe('invgpj.exe');
		expect(sanitizeFileName('a\r\nb\u0000c.txt')).toBe('abc.txt');
		expect(sanitizeFileName('  two   spaces .txt ')).toBe('two spaces .txt');
		expect(sanitizeFileName('..')).toBe('file');
		expect(sanitizeFileName('\u0007')).toBe('file');
	});

	it('caps the length, keeping the extension', () => {
		const long = `${'é'.repeat(500)}.pdf`;
		const name = sanitizeFileName(long);
		expect([...name].length).toBe(MAX_NAME_LENGTH);
		expect(name.endsWith('.pdf')).toBe(true);
	});

	it('goes out in Content-Disposition with an ASCII fallback and the exact UTF-8 name', () => {
		expect(contentDisposition('attachment', 'rapport "final" été.pdf')).toBe(
			`attachment; filename="rapport _final_ _t_.pdf"; filename*=UTF-8''rapport%20%22final%22%20%C3%A9t%C3%A9.pdf`
		);
		expect(contentDisposition('inline', "it's (1).png")).toBe(
			`inline; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`
		);
	});
});

describe('ranges', () => {
	it.each([
		['bytes=0-9', { offset: 0, length: 10 }],
		['bytes=5-', { offset: 5, length: 95 }],
		['bytes=-10', { offset: 90, length: 10 }],
		['bytes=-500', { offset: 0, length: 100 }],
		['bytes=90-500', { offset: 90, length: 10 }],
		['bytes=100-', 'unsatisfiable'],
		['bytes=-0', 'unsatisfiable'],
		['bytes=0-1,5-6', null],
		['bytes=9-3', null],
		['items=0-9', null],
		['bytes=-', null]
	])('%s of 100 bytes', (header, expected) => {
		expect(parseRange(header, 100)).toEqual(expected);
	});
});

describe('upload headers', () => {
	const parse = (headers: Record<string, string>) => parseUploadHeaders(new Headers(headers));

	it('reads the name, the hint and what the browser measured', () => {
		expect(
			parse({
				'x-file-name': encodeURIComponent('vacances/été.jpg'),
				'x-file-kind-hint': 'audio',
				'x-file-width': '640',
				'x-file-height': '480',
				'x-file-placeholder': 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw=='
			})
		).toEqual({
			ok: true,
			meta: {
				name: 'été.jpg',
				kindHint: 'audio',
				width: 640,
				height: 480,
				placeholder: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw=='
			}
		});
	});

	it.each([
		[{}, 'X-File-Name is required.'],
		[{ 'x-file-name': '%E0%A4%A' }, 'X-File-Name must be URI-encoded.'],
		[
			{ 'x-file-name': 'a', 'x-file-kind-hint': 'image' },
			'X-File-Kind-Hint must be "audio" or "video".'
		],
		[{ 'x-file-name': 'a', 'x-file-width': '0' }, 'X-File-Width must be at least 1.'],
		[
			{ 'x-file-name': 'a', 'x-file-height': '1.5' },
			'X-File-Height must be a whole number of pixels.'
		],
		[{ 'x-file-name': 'a', 'x-file-width': '70000' }, 'X-File-Width must be at most 65535.'],
		[
			{ 'x-file-name': 'a', 'x-file-placeholder': '<script>' },
			'X-File-Placeholder must be base64.'
		],
		[
			{ 'x-file-name': 'a', 'x-file-placeholder': 'A'.repeat(101) },
			'X-File-Placeholder must be at most 100 characters.'
		]
	])('refuses %j', (headers, message) => {
		expect(parse(headers)).toEqual({ ok: false, status: 400, code: 'bad_input', message });
	});
});

describe('limits', () => {
	it('default to 25 MiB a file and 1 GiB a person, and follow the configuration', () => {
		expect(fileLimits({})).toEqual({
			maxBytes: DEFAULT_FILE_MAX_BYTES,
			quotaBytes: DEFAULT_FILE_QUOTA_BYTES
		});
		expect(DEFAULT_FILE_MAX_BYTES).toBe(25 * 1024 * 1024);
		expect(
			fileLimits({ FILE_MAX_BYTES: '1000', FILE_QUOTA_BYTES: 5000 } as unknown as Env)
		).toEqual({ maxBytes: 1000, quotaBytes: 5000 });
		expect(fileLimits({ FILE_MAX_BYTES: 'lots' } as unknown as Env).maxBytes).toBe(
			DEFAULT_FILE_MAX_BYTES
		);
	});

	it('are described in words people read', () => {
		expect(describeBytes(DEFAULT_FILE_MAX_BYTES)).toBe('25 MB');
		expect(describeBytes(DEFAULT_FILE_QUOTA_BYTES)).toBe('1 GB');
		expect(describeBytes(1536)).toBe('1.5 KB');
		expect(describeBytes(12)).toBe('12 bytes');
	});
});
