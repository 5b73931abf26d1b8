// The outbox reads back whatever IndexedDB holds. workerd has no IndexedDB, so the check it applies
// to every stored entry is tested by itself; tests/e2e/outbox.e2e.ts covers it in a browser.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseOutboxEntries } from '$lib/client/outbox';

afterEach(() => {
	vi.restoreAllMocks();
});

const entry = (clientId: string, extra: Record<string, unknown> = {}) => ({
	clientId,
	roomId: 'room-1',
	userId: 'alice',
	body: `message ${clientId}`,
	createdAt: 1_700_000_000_000,
	...extra
});

describe('the outbox', () => {
	it("keeps alice's well-formed unsent messages, replies and failures included", () => {
		const stored = [
			entry('a'),
			entry('b', {
				replyTo: 3,
				replyPreview: { seq: 3, senderName: 'Bob', snippet: 'hi', deleted: false }
			}),
			entry('c', { failed: 'Too long.' })
		];
		expect(parseOutboxEntries(stored)).toEqual(stored);
	});

	it("skips and logs the entries mallory tampered with, and keeps alice's others", () => {
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
		const tampered: unknown[] = [
			null,
			'a string',
			42,
			[],
			{},
			entry(''),
			entry('x'.repeat(65)),
			entry('body', { body: 42 }),
			entry('body-object', { body: { toString: 'alert(1)' } }),
			entry('room', { roomId: undefined }),
			entry('user', { userId: 7 }),
			entry('when', { createdAt: 'soon' }),
			entry('nan', { createdAt: Number.NaN }),
			entry('reply', { replyTo: -1 }),
			entry('reply-float', { replyTo: 1.5 }),
			entry('preview', { replyPreview: 'quoted' }),
			entry('preview-shape', { replyPreview: { seq: 1, senderName: 'Bob' } }),
			entry('failed', { failed: true })
		];
		const good = [entry('kept-1'), entry('kept-2')];
		expect(parseOutboxEntries([good[0], ...tampered, good[1]])).toEqual(good);
		expect(warn).toHaveBeenCalledTimes(tampered.length);
	});

	it('drops fields it does not know instead of passing them on', () => {
		expect(parseOutboxEntries([entry('a', { isAdmin: true })])).toEqual([entry('a')]);
	});
});

describe('the outbox with files', () => {
	const uploaded = {
		id: 'f1',
		name: 'a.png',
		type: 'image/png',
		kind: 'image',
		size: 3,
		width: 2,
		height: 1,
		placeholder: 'AAAA',
		url: '/files/f1'
	};
	const file = (key: string, extra: Record<string, unknown> = {}) => ({
		key,
		blob: new Blob(['abc'], { type: 'image/png' }),
		name: 'a.png',
		width: 2,
		height: 1,
		placeholder: 'AAAA',
		...extra
	});

	it('keeps a message with its files, their bytes, and what the server stored of them', () => {
		const stored = [
			entry('a', {
				body: '',
				files: [file('a:0', { uploaded }), file('a:1', { kindHint: 'audio' })]
			})
		];
		const [parsed] = parseOutboxEntries(stored);
		expect(parsed).toEqual(stored[0]);
		expect(parsed!.files![0]!.blob).toBeInstanceOf(Blob);
	});

	it('skips messages whose files were tampered with', () => {
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
		const tampered: unknown[] = [
			entry('no-files', { files: [] }),
			entry('not-array', { files: file('x:0') }),
			entry('no-blob', { files: [file('x:0', { blob: 'bytes' })] }),
			entry('blob-object', { files: [file('x:0', { blob: { size: 3 } })] }),
			entry('no-key', { files: [file('')] }),
			entry('same-key', { files: [file('x:0'), file('x:0')] }),
			entry('no-name', { files: [file('x:0', { name: '' })] }),
			entry('hint', { files: [file('x:0', { kindHint: 'image' })] }),
			entry('width', { files: [file('x:0', { width: 0 })] }),
			entry('height', { files: [file('x:0', { height: 1e9 })] }),
			entry('placeholder', { files: [file('x:0', { placeholder: 'x'.repeat(101) })] }),
			entry('uploaded', { files: [file('x:0', { uploaded: { ...uploaded, id: 7 } })] }),
			entry('uploaded-kind', { files: [file('x:0', { uploaded: { ...uploaded, kind: 'exe' } })] }),
			entry('too-many', {
				files: Array.from({ length: 11 }, (_, i) => file(`x:${i}`))
			})
		];
		expect(parseOutboxEntries([...tampered, entry('kept')])).toEqual([entry('kept')]);
		expect(warn).toHaveBeenCalledTimes(tampered.length);
	});
});
