import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_AFTER_MS, SEND_WINDOW, SendWindow } from '$lib/client/send-window';
import { SEND_RATE } from '$shared/protocol';

type Item = { clientId: string; createdAt: number };

/** Alice's messages `from`..`to`, written one a millisecond apart. */
function written(from: number, to: number): Item[] {
	return Array.from({ length: to - from + 1 }, (_, i) => ({
		clientId: `m${from + i}`,
		createdAt: 1000 + from + i
	}));
}

function windowOf(items: Item[], size = SEND_WINDOW): SendWindow<Item> {
	const window = new SendWindow<Item>(size);
	for (const item of items) window.add(item);
	return window;
}

const ids = (items: readonly Item[]) => items.map((item) => item.clientId);
const range = (from: number, to: number) => ids(written(from, to));

/** Acks what is on the wire, as a room with tokens to spare would, until nothing is left. */
function drain(window: SendWindow<Item>): string[] {
	const order: string[] = [];
	for (let batch = window.next(); batch.length > 0; batch = window.next()) {
		for (const item of batch) {
			order.push(item.clientId);
			window.acked(item.clientId);
		}
	}
	return order;
}

describe('SendWindow', () => {
	it('lets alice have at most a window of sends on the wire, in the order she wrote them', () => {
		const window = windowOf(written(1, 100));
		expect(ids(window.next())).toEqual(range(1, SEND_WINDOW));
		// Nothing more until the room answers.
		expect(window.next()).toEqual([]);
		expect(window.inFlight).toBe(SEND_WINDOW);

		window.acked('m1');
		expect(ids(window.next())).toEqual([`m${SEND_WINDOW + 1}`]);
		window.acked('m2');
		window.acked('m3');
		expect(ids(window.next())).toEqual(range(SEND_WINDOW + 2, SEND_WINDOW + 3));
	});

	it('sends every one of a hundred messages exactly once, in order, when the room takes them all', () => {
		expect(drain(windowOf(written(1, 100)))).toEqual(range(1, 100));
	});

	it('keeps its window within the burst the room allows', () => {
		expect(SEND_WINDOW).toBeLessThanOrEqual(SEND_RATE.burst);
		expect(() => new SendWindow(SEND_RATE.burst + 1)).toThrow(RangeError);
		expect(() => new SendWindow(0)).toThrow(RangeError);
	});

	it('pauses on a refusal and goes on from the first unacknowledged message, in order', () => {
		const window = windowOf(written(1, 30));
		window.next();
		window.acked('m1');
		window.acked('m2');
		// m3 is refused; m4.. behind it on the wire are refused too.
		expect(window.refused('m3', 400, 10_000)).toBe(400);
		expect(window.paused).toBe(true);
		for (let n = 4; n <= 10; n++) window.refused(`m${n}`, 400, 10_000);
		expect(window.next()).toEqual([]);

		window.resume();
		// One at first: after waiting, the room has one token for alice.
		expect(ids(window.next())).toEqual(['m3']);
		expect(window.next()).toEqual([]);
		window.acked('m3');
		expect(ids(window.next())).toEqual(['m4', 'm5']);
		window.acked('m4');
		window.acked('m5');
		expect(drain(window)).toEqual(range(6, 30));
	});

	it('after a refusal, grows back to the whole window one ack at a time', () => {
		const window = windowOf(written(1, 60));
		window.next();
		window.refused('m1', 200, 0);
		window.resume();
		const sizes: number[] = [];
		for (let round = 0; round < 6; round++) {
			const batch = window.next();
			sizes.push(batch.length);
			for (const item of batch) window.acked(item.clientId);
		}
		expect(sizes).toEqual([1, 2, 4, 8, SEND_WINDOW, SEND_WINDOW]);
	});

	it('waits once, for the longest wait the room asked, however many refusals come', () => {
		const window = windowOf(written(1, 10));
		window.next();
		expect(window.refused('m1', 200, 1000)).toBe(200);
		expect(window.refused('m2', 900, 1010)).toBe(900);
		// A shorter wait asked later does not cut the pause short.
		expect(window.refused('m3', 100, 1020)).toBe(890);
		expect(window.refused('m4', undefined, 1030)).toBe(DEFAULT_RETRY_AFTER_MS);
	});

	it('pauses on a refusal that names no message only while sends are out', () => {
		const window = windowOf(written(1, 5));
		// Nothing sent yet: a refused typing frame is not about alice's messages.
		expect(window.refused(undefined, 300, 0)).toBeNull();
		window.next();
		expect(window.refused(undefined, 300, 0)).toBe(300);
		// While paused, more such refusals are the rest of what was on the wire.
		expect(window.refused(undefined, 500, 10)).toBe(500);
		window.resume();
		expect(ids(window.next())).toEqual(['m1']);
	});

	it('ignores a refusal or an ack of a message it does not hold', () => {
		const window = windowOf(written(1, 3));
		window.next();
		expect(window.refused('someone-else', 300, 0)).toBeNull();
		expect(window.paused).toBe(false);
		expect(window.acked('someone-else')).toBe(false);
		expect(window.inFlight).toBe(3);
	});

	it('takes acks out of order or twice without losing or repeating a message', () => {
		const window = windowOf(written(1, 14));
		expect(ids(window.next())).toEqual(range(1, 10));
		expect(window.acked('m5')).toBe(true);
		expect(window.acked('m5')).toBe(false);
		expect(window.acked('m9')).toBe(true);
		expect(ids(window.next())).toEqual(['m11', 'm12']);
		expect(window.inFlight).toBe(SEND_WINDOW);
		for (const id of ['m1', 'm2', 'm3', 'm4', 'm6', 'm7', 'm8', 'm10', 'm11', 'm12']) {
			window.acked(id);
		}
		expect(ids(window.next())).toEqual(['m13', 'm14']);
		expect(window.items).toHaveLength(2);
	});

	it('sends everything unacknowledged again after a reconnect, first unacknowledged first', () => {
		const window = windowOf(written(1, 12));
		window.next();
		window.acked('m1');
		window.acked('m3');
		window.reset();
		expect(ids(window.next())).toEqual(['m2', ...range(4, 12)]);
	});

	it('forgets a pause when the socket is replaced', () => {
		const window = windowOf(written(1, 3));
		window.next();
		window.refused('m1', 5000, 0);
		window.reset();
		expect(window.paused).toBe(false);
		expect(ids(window.next())).toEqual(['m1']);
	});

	it('lets a failed message leave without holding up the ones after it, and takes it back on retry', () => {
		const window = windowOf(written(1, 12));
		window.next();
		// m2 replied to a message that was deleted meanwhile: refused for good.
		expect(window.remove('m2')).toBe(true);
		expect(ids(window.next())).toEqual(['m11']);
		for (const id of ['m1', ...range(3, 11)]) window.acked(id);
		expect(ids(window.next())).toEqual(['m12']);

		// Alice writes m13, then retries m2: it goes after what was already sent (m12), and before
		// what was written after it and not sent yet.
		window.add(written(13, 13)[0]!);
		window.add(written(2, 2)[0]!);
		expect(ids(window.next())).toEqual(['m2', 'm13']);
	});

	it('merges messages restored from the outbox with new ones by when they were written', () => {
		const window = new SendWindow<Item>();
		const [older, newer] = [written(1, 3), written(4, 6)];
		for (const item of newer) window.add(item);
		for (const item of older) window.add(item);
		expect(ids(window.next())).toEqual(range(1, 6));
	});

	it('never puts a message ahead of one already sent, whenever it was written', () => {
		const window = windowOf(written(5, 7));
		window.next();
		window.refused('m5', 100, 0);
		// An old message from the outbox arrives while m5..m7 wait to go again.
		window.add(written(1, 1)[0]!);
		window.resume();
		expect(drain(window)).toEqual(['m5', 'm6', 'm7', 'm1']);
	});

	it('sends a message seen in the timeline again if it went out, so that the room can answer it', () => {
		const window = windowOf(written(1, 4));
		expect(ids(window.next())).toEqual(range(1, 4));
		window.refused('m1', 100, 0);
		// Alice's other tab sent m1 and m5 from the same outbox: both show up in the timeline. m5
		// never went out from here, and simply leaves.
		expect(window.settled('m1')).toBe(false);
		window.add({ clientId: 'm5', createdAt: 1005 });
		expect(window.settled('m5')).toBe(true);
		expect(window.has('m5')).toBe(false);
		window.resume();
		// m1 goes again: the room answers it with an ack and lets the rest through.
		expect(ids(window.next())).toEqual(['m1']);
		expect(window.acked('m1')).toBe(true);
		expect(ids(window.next())).toEqual(['m2', 'm3']);
	});

	it('holds a message once, however often it is added', () => {
		const window = windowOf(written(1, 2));
		window.add(written(1, 1)[0]!);
		expect(drain(window)).toEqual(['m1', 'm2']);
	});
});
