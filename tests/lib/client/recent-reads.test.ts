// The read positions a browser remembers across page loads until D1 has them (issue 14).
import { describe, expect, it } from 'vitest';
import type { ConversationSummary } from '$lib/conversations';
import { RECENT_READ_TTL_MS, RecentReads, type ReadStorage } from '$lib/client/recent-reads';

class FakeStorage implements ReadStorage {
	items = new Map<string, string>();
	getItem(key: string): string | null {
		return this.items.get(key) ?? null;
	}
	setItem(key: string, value: string): void {
		this.items.set(key, value);
	}
}

/** A row as a page load reads it from D1: `unread` counts from D1's (older) read position. */
function row(id: string, lastMessageSeq: number, unread: number): ConversationSummary {
	return {
		id,
		kind: 'group',
		name: id,
		peer: null,
		lastMessageAt: 1,
		activeAt: 1,
		lastMessagePreview: 'hi',
		lastMessageSeq,
		unread,
		pinned: false,
		archived: false,
		notify: 'all',
		encrypted: false
	};
}

describe('RecentReads', () => {
	it('a page loaded before the flush counts unread from what this browser told the room', () => {
		const storage = new FakeStorage();
		const now = 1_000_000;
		new RecentReads(storage, 'bob').note('r1', 3, now);
		// The next page: a new instance over the same storage, D1 still at read 0 of 3.
		const reads = new RecentReads(storage, 'bob');
		expect(reads.unread(row('r1', 3, 3), now + 500)).toBe(0);
		// Messages after the read count; D1 further along than the browser wins.
		expect(reads.unread(row('r1', 5, 5), now + 500)).toBe(2);
		expect(reads.unread(row('r1', 5, 1), now + 500)).toBe(1);
		// Other rooms and other people are untouched.
		expect(reads.unread(row('r2', 4, 4), now)).toBe(4);
		expect(new RecentReads(storage, 'carol').unread(row('r1', 3, 3), now)).toBe(3);
	});

	it('never moves back, forgets after a while, and survives storage it cannot read', () => {
		const storage = new FakeStorage();
		const reads = new RecentReads(storage, 'bob');
		reads.note('r1', 5, 0);
		reads.note('r1', 2, 10);
		expect(reads.get('r1', 10)).toBe(5);
		expect(reads.get('r1', RECENT_READ_TTL_MS + 1)).toBeNull();
		storage.setItem('parley:reads:bob', '{not json');
		expect(reads.unread(row('r1', 3, 3), 0)).toBe(3);
		storage.setItem('parley:reads:bob', JSON.stringify({ r1: ['x', 0], r2: [4, 0] }));
		expect(reads.get('r1', 0)).toBeNull();
		expect(reads.get('r2', 0)).toBe(4);
	});
});
