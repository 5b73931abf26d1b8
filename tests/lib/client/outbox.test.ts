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
