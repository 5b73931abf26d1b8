// The pure parts of the upload engine: the resume key, what the browser refuses before uploading,
// and the headers the server reads (src/lib/server/files/upload-headers.ts).
import { describe, expect, it } from 'vitest';
import { parseUploadHeaders } from '$lib/server/files/upload-headers';
import { uploadHeaders } from '$lib/client/upload';
import { refuseBeforeUpload, resumeKeyOf } from '$lib/client/upload-rules';

describe('the upload engine', () => {
	it('names an upload by its message and slot, and refuses keys that could collide', () => {
		expect(resumeKeyOf('c-1', 0)).toBe('c-1:0');
		expect(resumeKeyOf('c-1', 9)).toBe('c-1:9');
		for (const [clientId, index] of [
			['', 0],
			['c', -1],
			['c', 1.5],
			['c', Number.NaN]
		] as const) {
			expect(() => resumeKeyOf(clientId, index)).toThrow(RangeError);
		}
	});

	it('refuses an empty file and one over the limit, saying the limit, and lets the rest through', () => {
		const limit = 25 * 1024 * 1024;
		expect(refuseBeforeUpload({ name: 'a.png', size: limit }, limit)).toBeNull();
		expect(refuseBeforeUpload({ name: 'big.mov', size: limit + 1 }, limit)).toBe(
			'big.mov is too large (25.0 MB): files can be up to 25 MB.'
		);
		expect(refuseBeforeUpload({ name: 'empty.txt', size: 0 }, limit)).toBe('empty.txt is empty.');
		// Without a known limit the server decides.
		expect(refuseBeforeUpload({ name: 'huge.bin', size: 10 * limit }, null)).toBeNull();
	});

	it('sends headers the server accepts, a name in any script included', () => {
		const headers = uploadHeaders({
			name: 'Фото — été 🌅.png',
			kindHint: 'audio',
			width: 640,
			height: 480,
			placeholder: 'AAAA+/=='
		});
		const parsed = parseUploadHeaders(new Headers(headers));
		expect(parsed).toEqual({
			ok: true,
			meta: {
				name: 'Фото — été 🌅.png',
				kindHint: 'audio',
				width: 640,
				height: 480,
				placeholder: 'AAAA+/=='
			}
		});
		// Nothing measured: only the name goes.
		expect(uploadHeaders({ name: 'notes.txt' })).toEqual({ 'x-file-name': 'notes.txt' });
	});
});
