// The sidebar's order, kept by the server's list and the browser's live one alike (issue 16).
import { describe, expect, it } from 'vitest';
import { compareConversations } from '$lib/conversations';

describe('the order of the conversation list', () => {
	it('puts pinned first, then the others by recency, muted ones below them', () => {
		const rows = [
			{ id: 'muted-new', pinned: false, notify: 'mute' as const, activeAt: 50 },
			{ id: 'old', pinned: false, notify: 'all' as const, activeAt: 10 },
			{ id: 'pinned-muted', pinned: true, notify: 'mute' as const, activeAt: 5 },
			{ id: 'muted-old', pinned: false, notify: 'mute' as const, activeAt: 1 },
			{ id: 'new', pinned: false, notify: 'mentions' as const, activeAt: 40 },
			{ id: 'pinned', pinned: true, notify: 'all' as const, activeAt: 2 }
		];
		expect(rows.sort(compareConversations).map((r) => r.id)).toEqual([
			'pinned',
			'pinned-muted',
			'new',
			'old',
			'muted-new',
			'muted-old'
		]);
	});
});
