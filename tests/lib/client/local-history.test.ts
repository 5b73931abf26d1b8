// What the browser keeps of a room between visits, and the room opening from it. workerd has no
// IndexedDB: the choices (which messages, which rooms, what is read back) are tested here, and
// tests/e2e/offline.e2e.ts covers the database in a browser.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '$shared/protocol';
import type { HistoryWindow } from '$lib/client/history';
import { parseCachedMessages, roomsToDrop } from '$lib/client/local-store';
import { contiguousTail, messagesToKeep } from '$lib/client/room-cache';
import { TimelineWindow, type TimelineLoader } from '$lib/client/timeline-window';
import { message, messages, range, seqs } from './messages-support';

afterEach(() => {
	vi.restoreAllMocks();
});

describe('which messages a room keeps', () => {
	it('keeps the newest 100 of a live window', () => {
		expect(seqs(messagesToKeep(messages(1, 150), true)!)).toEqual(range(51, 150));
		expect(seqs(messagesToKeep(messages(1, 30), true)!)).toEqual(range(1, 30));
	});

	it('keeps deletions and edits as the window has them', () => {
		const deleted = message(2, { body: '', deletedAt: 5, rev: 9 });
		const edited = message(3, { body: 'edited', editedAt: 6, rev: 10 });
		expect(messagesToKeep([message(1), deleted, edited], true)).toEqual([
			message(1),
			deleted,
			edited
		]);
	});

	it('keeps nothing new from a window moved back to an old message, or an empty one', () => {
		expect(messagesToKeep(messages(1, 10), false)).toBeNull();
		expect(messagesToKeep([], true)).toBeNull();
	});

	it('takes only the newest run without a gap', () => {
		expect(seqs(contiguousTail([message(9), message(1), message(2), message(8)]))).toEqual([8, 9]);
		expect(contiguousTail([])).toEqual([]);
	});
});

describe('which rooms are kept', () => {
	const rooms = Array.from({ length: 23 }, (_, i) => ({ roomId: `r${i}`, openedAt: 1000 + i }));

	it('drops all but the 20 opened most recently', () => {
		expect(roomsToDrop(rooms).sort()).toEqual(['r0', 'r1', 'r2']);
		expect(roomsToDrop(rooms.slice(0, 20))).toEqual([]);
	});

	it('counts a room opened again as recent', () => {
		const reopened = rooms.map((r) => (r.roomId === 'r0' ? { ...r, openedAt: 5000 } : r));
		expect(roomsToDrop(reopened).sort()).toEqual(['r1', 'r2', 'r3']);
	});
});

describe('what is read back', () => {
	it("keeps the room's well-formed messages, oldest first, and skips the rest", () => {
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
		const entry = (seq: number, extra: Record<string, unknown> = {}) => ({
			roomId: 'room-1',
			seq,
			message: message(seq),
			...extra
		});
		const stored: unknown[] = [
			entry(3),
			entry(1),
			null,
			'text',
			entry(4, { roomId: 'room-2' }),
			entry(5, { message: { ...message(5), body: 42 } }),
			entry(6, { message: message(7) }),
			entry(8, { message: { ...message(8), senderName: undefined } }),
			entry(2)
		];
		expect(seqs(parseCachedMessages('room-1', stored))).toEqual([1, 2, 3]);
		expect(warn).toHaveBeenCalledTimes(6);
	});
});

describe('TimelineWindow.restore: opening from what was kept', () => {
	const offline: TimelineLoader = { page: async () => null, around: async () => null };

	function open(initial: HistoryWindow, rev = 50) {
		const newest: number[] = [];
		const changes: boolean[] = [];
		const window = new TimelineWindow(initial, rev, offline, {
			onChange: (arrived) => changes.push(arrived),
			onNewest: (m) => newest.push(m.seq)
		});
		window.announceNewest();
		return { window, newest, changes };
	}

	const live = (list: ChatMessage[], hasOlder = false) => ({
		messages: list,
		hasOlder,
		hasNewer: false
	});

	it('adds what was kept after a stale page, and resumes from it', () => {
		const { window, newest, changes } = open(live(messages(1, 10)));
		expect(window.restore(messages(5, 14), 40)).toBe(true);
		expect(seqs(window.messages)).toEqual(range(1, 14));
		expect(window.lastSeq).toBe(14);
		expect(window.roomLastSeq).toBe(14);
		// Changes after the kept messages' revision are asked for again.
		expect(window.lastRev).toBe(40);
		expect(newest).toEqual([10, 14]);
		expect(changes).toEqual([true]);
		// The page's copies stay: they are not older than what was kept.
		expect(window.messages.slice(0, 10)).toEqual(messages(1, 10));
	});

	it('replaces a page that does not reach what was kept', () => {
		const { window } = open(live(messages(1, 10)));
		expect(window.restore(messages(20, 30), 60)).toBe(true);
		expect(seqs(window.messages)).toEqual(range(20, 30));
		expect(window.hasOlder).toBe(true);
		expect(window.hasNewer).toBe(false);
		// A revision newer than the page's does not skip changes the page missed.
		expect(window.lastRev).toBe(50);
	});

	it('fills an empty page (the cached page of a room that was quiet then)', () => {
		const { window } = open(live([]));
		expect(window.restore(messages(1, 3), 3)).toBe(true);
		expect(seqs(window.messages)).toEqual([1, 2, 3]);
		expect(window.hasOlder).toBe(false);
	});

	it('changes nothing when the page is as new, or shows an older part of the room', () => {
		const fresh = open(live(messages(1, 10)));
		expect(fresh.window.restore(messages(1, 10), 1)).toBe(false);
		expect(fresh.window.lastRev).toBe(50);
		expect(fresh.changes).toEqual([]);
		const jumped = open({ messages: messages(3, 7), hasOlder: true, hasNewer: true });
		expect(jumped.window.restore(messages(20, 30), 1)).toBe(false);
		expect(seqs(jumped.window.messages)).toEqual(range(3, 7));
	});

	it('lets the socket continue after what was kept', async () => {
		const { window } = open(live(messages(1, 10)));
		window.restore(messages(1, 12), 12);
		await window.catchUp({ messages: messages(11, 13), more: false });
		expect(seqs(window.messages)).toEqual(range(1, 13));
	});
});
