// The browser's timeline window without a socket or fetch: the room's history is a fake the window
// reads through its loader, and frames are the calls the connection makes for them.
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '$shared/protocol';
import type { HistoryWindow } from '$lib/client/history';
import { TimelineWindow } from '$lib/client/timeline-window';
import { FakeHistory } from './history-support';
import { message, messages, range, seqs } from './messages-support';

type Opened = {
	window: TimelineWindow;
	history: FakeHistory;
	/** What `onNewest` was told, in order. */
	newest: number[];
	/** The `arrived` flag of every change. */
	changes: boolean[];
};

/** A tab holding `initial` of a room whose history is `history`. */
function open(
	initial: HistoryWindow,
	history = new FakeHistory(initial.messages.at(-1)?.seq ?? 0),
	keepOutside?: number
): Opened {
	const newest: number[] = [];
	const changes: boolean[] = [];
	const window = new TimelineWindow(
		initial,
		0,
		history,
		{ onChange: (arrived) => changes.push(arrived), onNewest: (m) => newest.push(m.seq) },
		keepOutside
	);
	return { window, history, newest, changes };
}

const live = (list: ChatMessage[], hasOlder = false): HistoryWindow => ({
	messages: list,
	hasOlder,
	hasNewer: false
});

describe('TimelineWindow: live messages', () => {
	it('appends messages that continue the window, in seq order, and tells each newest once', async () => {
		const { window, newest, changes } = open(live(messages(1, 3)));
		window.announceNewest();
		await window.live(message(4));
		await window.live(message(5));
		expect(seqs(window.messages)).toEqual(range(1, 5));
		expect(window.lastSeq).toBe(5);
		expect(window.roomLastSeq).toBe(5);
		expect(newest).toEqual([3, 4, 5]);
		// Each append may have brought my pending messages.
		expect(changes).toEqual([true, true]);
	});

	it('ignores a message it already has, whichever way it comes again', async () => {
		const { window, history } = open(live(messages(1, 5)));
		const before = window.messages;
		await window.live(message(5));
		await window.live(message(3));
		// A reconnect's backlog that overlaps what the tab has.
		await window.catchUp({ messages: messages(4, 6), more: false });
		expect(seqs(window.messages)).toEqual(range(1, 6));
		expect(window.messages.slice(0, 5)).toEqual(before);
		expect(history.queries).toEqual([]);
		// A newer copy of one it has takes its place, still once.
		await window.catchUp({ messages: [message(6, { rev: 60, body: 'edited' })], more: false });
		expect(seqs(window.messages)).toEqual(range(1, 6));
		expect(window.find(6)?.body).toBe('edited');
	});

	it('sets aside a message ahead of a gap and fetches what is between, then joins them in order', async () => {
		const history = new FakeHistory(9);
		const { window } = open(live(messages(1, 5)), history);
		const paging = window.live(message(9));
		// Not shown out of order while the gap is open.
		expect(seqs(window.messages)).toEqual(range(1, 5));
		expect(window.roomLastSeq).toBe(9);
		await paging;
		expect(history.queries).toEqual([JSON.stringify({ after: 5 })]);
		expect(seqs(window.messages)).toEqual(range(1, 9));
	});

	it('drains what waits aside as soon as the gap before it closes', async () => {
		const history = new FakeHistory(8);
		history.offline = true;
		const { window } = open(live(messages(1, 5)), history);
		await window.live(message(7));
		await window.live(message(8));
		expect(seqs(window.messages)).toEqual(range(1, 5));
		// The missing one comes over the socket after all: 6, 7 and 8 follow on, nothing doubled.
		await window.live(message(6));
		expect(seqs(window.messages)).toEqual(range(1, 8));
	});

	it('keeps at most its limit of messages aside, dropping the oldest kept', async () => {
		const history = new FakeHistory(20);
		history.offline = true;
		const { window } = open(live(messages(1, 2)), history, 2);
		for (const seq of [10, 11, 12]) await window.live(message(seq));
		history.offline = false;
		history.stored = history.stored.filter((m) => m.seq <= 9);
		await window.live(message(13));
		// 10 and 11 were dropped from what waits aside, and the page stops at 9: 12 and 13 cannot
		// join past the gap.
		expect(seqs(window.messages)).toEqual(range(1, 9));
	});
});

describe('TimelineWindow: catch-up after a reconnect', () => {
	it('resumes from the last seq and revision it has without a gap', async () => {
		const { window } = open(live(messages(1, 5)));
		expect(window.lastSeq).toBe(5);
		window.welcome(8, 40);
		expect(window.lastRev).toBe(40);
		expect(window.roomLastSeq).toBe(8);
		window.update(message(2, { rev: 41, body: 'edited' }));
		await window.live(message(6, { rev: 42 }));
		expect(window.lastRev).toBe(42);
		// An older revision moves nothing back.
		window.welcome(3, 10);
		expect(window.lastRev).toBe(42);
		expect(window.roomLastSeq).toBe(8);
	});

	it('takes the backlog exactly: every missed message once, in order, with changes to older ones', async () => {
		const { window } = open(live(messages(1, 5)));
		await window.catchUp({
			messages: messages(6, 8),
			updates: [message(2, { rev: 20, body: 'edited while away' })],
			more: false
		});
		expect(seqs(window.messages)).toEqual(range(1, 8));
		expect(window.find(2)?.body).toBe('edited while away');
	});

	it('pages the rest over HTTP when the backlog says there is more, until the end', async () => {
		const history = new FakeHistory(130, 50);
		const { window, newest } = open(live(messages(1, 5)), history);
		window.announceNewest();
		const catchUp = window.catchUp({ messages: messages(6, 10), more: true });
		// A live message during the catch-up waits aside rather than opening a gap in the window.
		await window.live(message(131));
		await catchUp;
		expect(history.queries).toEqual([10, 60, 110].map((after) => JSON.stringify({ after })));
		expect(seqs(window.messages)).toEqual(range(1, 131));
		expect(newest.at(-1)).toBe(131);
	});

	it('stays contiguous when the catch-up cannot be read, and pages again at the next gap', async () => {
		const history = new FakeHistory(20);
		history.offline = true;
		const { window } = open(live(messages(1, 5)), history);
		await window.catchUp({ messages: messages(6, 8), more: true });
		expect(seqs(window.messages)).toEqual(range(1, 8));
		history.offline = false;
		await window.live(message(21, { rev: 21 }));
		expect(seqs(window.messages)).toEqual(range(1, 21));
	});
});

describe('TimelineWindow: changes to older messages', () => {
	it('applies an edit, a deletion or a reaction to a loaded message when it is newer', async () => {
		const { window, changes } = open(live(messages(1, 5)));
		window.update(message(3, { rev: 10, body: 'edited', editedAt: 5 }));
		expect(window.find(3)?.body).toBe('edited');
		window.update(message(4, { rev: 11, body: '', deletedAt: 6 }));
		expect(window.find(4)?.deletedAt).toBe(6);
		window.update(message(2, { rev: 12, reactions: { '👍': ['alice'] } }));
		expect(window.find(2)?.reactions).toEqual({ '👍': ['alice'] });
		// A stale copy (an older revision) changes nothing.
		window.update(message(3, { rev: 9, body: 'stale' }));
		expect(window.find(3)?.body).toBe('edited');
		// Changes in place bring no pending message of mine.
		expect(changes).toEqual([false, false, false]);
		expect(seqs(window.messages)).toEqual(range(1, 5));
	});

	it('tells the newest message again when it changes', () => {
		const { window, newest } = open(live(messages(1, 5)));
		window.announceNewest();
		window.update(message(5, { rev: 10, body: 'edited' }));
		window.update(message(4, { rev: 11, body: 'edited' }));
		expect(newest).toEqual([5, 5]);
	});

	it('keeps a change to a message not loaded yet, and applies it when the page brings it', async () => {
		const history = new FakeHistory(10);
		const { window } = open(live(messages(6, 10), true), history);
		window.update(message(3, { rev: 30, body: 'edited before loaded' }));
		expect(window.find(3)).toBeUndefined();
		await window.loadOlder();
		expect(seqs(window.messages)).toEqual(range(1, 10));
		// The page (D1's copy, no revision) does not undo the newer change.
		expect(window.find(3)?.body).toBe('edited before loaded');
		expect(window.find(2)?.body).toBe('message 2');
	});

	it('updates a message that waits aside, so it joins the window changed', async () => {
		const history = new FakeHistory(10);
		history.offline = true;
		const { window } = open(live(messages(1, 5)), history);
		await window.live(message(7));
		window.update(message(7, { rev: 70, body: 'edited' }));
		await window.live(message(6));
		expect(seqs(window.messages)).toEqual(range(1, 7));
		expect(window.find(7)?.body).toBe('edited');
	});
});

describe('TimelineWindow: the row of a conversation (issue 14)', () => {
	/** What the row is told: the newest seq and the seq of the message whose preview it shows. */
	function watch(initial: HistoryWindow) {
		const told: [number, number | null][] = [];
		const window = new TimelineWindow(
			initial,
			0,
			new FakeHistory(initial.messages.at(-1)?.seq ?? 0),
			{
				onNewest: (newest, shown) => told.push([newest.seq, shown?.seq ?? null])
			}
		);
		window.announceNewest();
		return { window, told };
	}
	const deleted = (seq: number, rev: number) => message(seq, { body: '', deletedAt: 1, rev });

	it('deleting the newest message shows the newest one still there, and so on down', () => {
		const { window, told } = watch(live(messages(1, 3)));
		expect(told).toEqual([[3, 3]]);
		window.update(deleted(3, 10));
		expect(told.at(-1)).toEqual([3, 2]);
		window.update(deleted(2, 11));
		expect(told.at(-1)).toEqual([3, 1]);
		// An edit of the message the row shows changes the row, though it is not the newest.
		window.update(message(1, { body: 'edited', rev: 12 }));
		expect(told.at(-1)).toEqual([3, 1]);
		expect(told).toHaveLength(4);
		window.update(deleted(1, 13));
		expect(told.at(-1)).toEqual([3, null]);
	});

	it('a change to a message older than the one shown tells the row nothing', () => {
		const { window, told } = watch(live(messages(1, 3)));
		window.update(message(2, { body: 'edited', rev: 10 }));
		window.update(deleted(1, 11));
		expect(told).toEqual([[3, 3]]);
	});
});

describe('TimelineWindow: paging at both ends', () => {
	it('pages older messages in front, without overlap, until the room has no more', async () => {
		const history = new FakeHistory(120, 50);
		const { window, changes } = open(live(messages(101, 120), true), history);
		const loading = window.loadOlder();
		expect(window.loadingOlder).toBe(true);
		// One page at a time.
		await window.loadOlder();
		await loading;
		expect(window.loadingOlder).toBe(false);
		expect(seqs(window.messages)).toEqual(range(51, 120));
		expect(window.hasOlder).toBe(true);
		await window.loadOlder();
		expect(seqs(window.messages)).toEqual(range(1, 120));
		expect(window.hasOlder).toBe(false);
		await window.loadOlder();
		expect(history.queries).toEqual([101, 51].map((before) => JSON.stringify({ before })));
		// Older pages bring none of my pending messages.
		expect(changes.every((arrived) => !arrived)).toBe(true);
	});

	it('after a jump back, pages newer messages until it meets what the socket set aside', async () => {
		const history = new FakeHistory(100, 40);
		const { window } = open(live(messages(61, 100), true), history);
		expect(await window.jumpTo(10)).toBe(true);
		expect(seqs(window.messages)).toEqual(range(8, 12));
		expect(window.hasNewer).toBe(true);
		// Live messages wait aside while the window does not reach the newest.
		history.stored.push(message(101), message(102));
		await window.live(message(101));
		await window.live(message(102));
		expect(window.lastSeq).toBe(12);
		expect(window.roomLastSeq).toBe(102);

		const loading = window.loadNewer();
		expect(window.loadingNewer).toBe(true);
		await loading;
		expect(window.hasNewer).toBe(true);
		await window.loadNewer();
		await window.loadNewer();
		expect(window.hasNewer).toBe(false);
		expect(window.loadingNewer).toBe(false);
		expect(seqs(window.messages)).toEqual(range(8, 102));
		// Live again: the next message is appended.
		await window.live(message(103));
		expect(window.lastSeq).toBe(103);
	});

	it('adds nothing twice when a page overlaps the window, at either end', async () => {
		const history = new FakeHistory(30, 10);
		history.overlap = true;
		const { window } = open(
			{ messages: messages(11, 20), hasOlder: true, hasNewer: true },
			history
		);
		await window.loadOlder();
		await window.loadNewer();
		expect(seqs(window.messages)).toEqual(range(2, 29));
	});

	it('jumps to a loaded message without reading, and answers false for one the room lacks', async () => {
		const history = new FakeHistory(20);
		const { window } = open(live(messages(1, 20)), history);
		expect(await window.jumpTo(4)).toBe(true);
		expect(history.queries).toEqual([]);
		expect(await window.jumpTo(99)).toBe(false);
		history.offline = true;
		expect(await window.jumpTo(99)).toBe(false);
		expect(seqs(window.messages)).toEqual(range(1, 20));
	});

	it('goes back to the latest page, with what waits aside, and counts it as arrived', async () => {
		const history = new FakeHistory(100, 30);
		const { window, changes } = open(live(messages(71, 100), true), history);
		await window.jumpTo(10);
		await window.live(message(101));
		await window.jumpToLatest();
		expect(seqs(window.messages)).toEqual(range(71, 101));
		expect(window.hasOlder).toBe(true);
		expect(window.hasNewer).toBe(false);
		expect(changes.at(-1)).toBe(true);
	});
});
