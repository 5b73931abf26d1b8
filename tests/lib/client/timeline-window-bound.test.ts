// The timeline window's bound (issue 21): a tab left open in a busy room holds a fixed number of
// messages while its reader follows the newest, and paging brings the rest back as they are now.
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '$shared/protocol';
import { LIVE_KEEP, LIVE_WINDOW, TimelineWindow } from '$lib/client/timeline-window';
import { FakeHistory } from './history-support';
import { message, messages, range, seqs } from './messages-support';

/** Bob's tab, following a room of `last` messages whose newest five it holds. */
function openLive(last: number) {
	const history = new FakeHistory(last);
	const window = new TimelineWindow(
		{ messages: messages(last - 4, last), hasOlder: last > 5, hasNewer: false },
		0,
		history
	);
	return { window, history };
}

/** The room's `from`..`to`, said over the socket one at a time; answers the largest window seen. */
async function say(window: TimelineWindow, from: number, to: number): Promise<number> {
	let largest = window.messages.length;
	for (let seq = from; seq <= to; seq++) {
		await window.live(message(seq));
		largest = Math.max(largest, window.messages.length);
	}
	return largest;
}

const contiguous = (list: readonly ChatMessage[]) =>
	seqs(list).every((seq, i, all) => i === 0 || seq === all[i - 1]! + 1);

describe('TimelineWindow: the bound while following the newest', () => {
	it('keeps at most its bound of the newest messages, in order, and says there are older ones', async () => {
		const { window } = openLive(5);
		const largest = await say(window, 6, 1000);
		expect(largest).toBe(LIVE_WINDOW);
		expect(window.lastSeq).toBe(1000);
		expect(window.messages.length).toBeGreaterThanOrEqual(LIVE_KEEP);
		expect(contiguous(window.messages)).toBe(true);
		expect(window.hasOlder).toBe(true);
	});

	it('drops the oldest in one cut, not one for each message that arrives', async () => {
		const { window } = openLive(5);
		await say(window, 6, LIVE_WINDOW);
		expect(seqs(window.messages)).toEqual(range(1, LIVE_WINDOW));
		await window.live(message(LIVE_WINDOW + 1));
		expect(seqs(window.messages)).toEqual(range(LIVE_WINDOW + 2 - LIVE_KEEP, LIVE_WINDOW + 1));
		await window.live(message(LIVE_WINDOW + 2));
		expect(window.messages).toHaveLength(LIVE_KEEP + 1);
	});

	it('keeps everything for a reader who scrolled up, and bounds the window again at the bottom', async () => {
		const { window } = openLive(5);
		window.follow(false);
		await say(window, 6, 400);
		expect(seqs(window.messages)).toEqual(range(1, 400));
		window.follow(true);
		expect(seqs(window.messages)).toEqual(range(400 - LIVE_KEEP + 1, 400));
		expect(window.hasOlder).toBe(true);
	});

	it('pages the dropped messages back in order, with the changes made to them since', async () => {
		const { window, history } = openLive(100);
		await say(window, 101, 500);
		// The room's history has what it said since, as its pages serve it.
		history.stored = new FakeHistory(500).stored;
		const first = window.messages[0]!.seq;
		// Alice edits one that left the window; her reaction to another reached D1 before the page.
		window.update(message(first - 2, { rev: 900, body: 'edited after it left' }));
		history.stored = history.stored.map((m) =>
			m.seq === first - 4 ? { ...m, reactions: { '👍': ['alice'] } } : m
		);
		window.follow(false);
		while (window.hasOlder) await window.loadOlder();
		expect(seqs(window.messages)).toEqual(range(1, 500));
		expect(window.find(first - 2)?.body).toBe('edited after it left');
		expect(window.find(first - 4)?.reactions).toEqual({ '👍': ['alice'] });
	});

	it('is not bounded away from the newest, and is once paging forward meets the live end', async () => {
		const { window } = openLive(400);
		expect(await window.jumpTo(3)).toBe(true);
		expect(window.hasNewer).toBe(true);
		await say(window, 401, 405);
		while (window.hasNewer) {
			await window.loadNewer();
			if (window.hasNewer) expect(window.messages[0]!.seq).toBe(1);
		}
		expect(window.lastSeq).toBe(405);
		expect(window.messages.length).toBeLessThanOrEqual(LIVE_WINDOW);
		expect(contiguous(window.messages)).toBe(true);
	});

	it('takes a long catch-up after a reconnect exactly, ending bounded at the newest', async () => {
		const history = new FakeHistory(1000);
		const window = new TimelineWindow(
			{ messages: messages(1, 5), hasOlder: false, hasNewer: false },
			0,
			history
		);
		await window.catchUp({ messages: messages(6, 30), more: true });
		expect(window.lastSeq).toBe(1000);
		expect(seqs(window.messages)).toEqual(range(1001 - window.messages.length, 1000));
		expect(window.messages.length).toBeLessThanOrEqual(LIVE_WINDOW);
	});
});
