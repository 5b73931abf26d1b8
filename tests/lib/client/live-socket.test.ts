import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
	HEARTBEAT_MS,
	HEARTBEAT_TIMEOUT_MS,
	LiveSocket,
	socketUrl,
	type LiveSocketOptions,
	type LiveSocketState,
	type SocketClose,
	type SocketLike
} from '$lib/client/live-socket';
import { PING, PONG } from '$shared/protocol';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** A socket the test drives by hand: it opens, answers and closes only when told to. */
class FakeSocket implements SocketLike {
	static made: FakeSocket[] = [];
	readyState = CONNECTING;
	sent: string[] = [];
	closedWith: SocketClose | null = null;
	onopen: ((event: Event) => void) | null = null;
	onmessage: ((event: MessageEvent) => void) | null = null;
	onclose: ((event: CloseEvent) => void) | null = null;

	constructor(readonly url: string) {
		FakeSocket.made.push(this);
	}

	send(data: string): void {
		if (this.readyState !== OPEN) throw new Error('sent on a socket that is not open');
		this.sent.push(data);
	}

	close(code = 1005, reason = ''): void {
		this.closedWith = { code, reason };
		if (this.readyState < CLOSING) this.readyState = CLOSING;
	}

	/** The server accepted the upgrade. */
	accept(): void {
		this.readyState = OPEN;
		this.onopen?.(new Event('open'));
	}

	receive(data: string): void {
		this.onmessage?.(new MessageEvent('message', { data }));
	}

	/** The close completed (or the server closed it) with `code`. */
	closed(code: number, reason = ''): void {
		this.readyState = CLOSED;
		this.onclose?.(new CloseEvent('close', { code, reason }));
	}

	pings(): number {
		return this.sent.filter((s) => s === PING).length;
	}
}

/** The newest socket made. */
function latest(): FakeSocket {
	const socket = FakeSocket.made.at(-1);
	if (!socket) throw new Error('no socket was made');
	return socket;
}

type Harness = {
	live: LiveSocket;
	states: LiveSocketState[];
	messages: string[];
	closes: SocketClose[];
	/** The state as each `onOpen` saw it. */
	opens: LiveSocketState[];
	window: EventTarget;
};

/**
 * A live socket on fake sockets and a fake window. Jitter is fixed at half the window, so the
 * n-th reconnect in a row waits 1 s, 2 s, 4 s...
 */
function harness(
	options: Partial<LiveSocketOptions> & { final?: (close: SocketClose) => boolean } = {}
): Harness {
	const window = new EventTarget();
	const h: Omit<Harness, 'live'> = { states: [], messages: [], closes: [], opens: [], window };
	const live = new LiveSocket({
		url: () => socketUrl('/ws/me', 'https://parley.example/rooms'),
		onState: (state) => h.states.push(state),
		onOpen: () => h.opens.push(live.state),
		onMessage: (data) => h.messages.push(data),
		onClose: (close) => {
			h.closes.push(close);
			return !(options.final?.(close) ?? false);
		},
		environment: { WebSocket: FakeSocket, events: window, random: () => 0.5 },
		...options
	});
	return { ...h, live };
}

beforeEach(() => {
	vi.useFakeTimers();
	FakeSocket.made = [];
});

afterEach(() => {
	vi.useRealTimers();
});

describe('LiveSocket', () => {
	it('opens a secure socket for the page and says when it is connecting and open', () => {
		const h = harness();
		h.live.start();
		expect(FakeSocket.made).toHaveLength(1);
		expect(latest().url).toBe('wss://parley.example/ws/me');
		expect(h.live.state).toBe('connecting');
		latest().accept();
		expect(h.states).toEqual(['connecting', 'open']);
		expect(h.opens).toEqual(['open']);
		expect(h.live.send('hello')).toBe(true);
		expect(latest().sent).toEqual(['hello']);
	});

	it('hands over every text frame except the answer to its heartbeat', () => {
		const h = harness();
		h.live.start();
		latest().accept();
		latest().receive('{"type":"welcome"}');
		latest().receive(PONG);
		expect(h.messages).toEqual(['{"type":"welcome"}']);
	});

	it('refuses to send before the socket is open', () => {
		const h = harness();
		h.live.start();
		expect(h.live.send('too early')).toBe(false);
		expect(latest().sent).toEqual([]);
	});

	it('pings once every heartbeat interval and stays open while pongs come back in time', () => {
		const h = harness();
		h.live.start();
		const socket = latest();
		socket.accept();
		vi.advanceTimersByTime(HEARTBEAT_MS - 1);
		expect(socket.pings()).toBe(0);
		for (let beat = 1; beat <= 3; beat++) {
			vi.advanceTimersByTime(1);
			expect(socket.pings()).toBe(beat);
			// The pong comes just in time.
			vi.advanceTimersByTime(HEARTBEAT_TIMEOUT_MS - 1);
			socket.receive(PONG);
			vi.advanceTimersByTime(HEARTBEAT_MS - HEARTBEAT_TIMEOUT_MS);
			expect(socket.pings()).toBe(beat);
		}
		expect(socket.closedWith).toBeNull();
		expect(FakeSocket.made).toHaveLength(1);
		expect(h.live.state).toBe('open');
	});

	it('drops a socket that misses a pong and reconnects after the backoff', () => {
		const h = harness();
		h.live.start();
		const silent = latest();
		silent.accept();
		vi.advanceTimersByTime(HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS - 1);
		expect(silent.closedWith).toBeNull();
		vi.advanceTimersByTime(1);
		expect(silent.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
		expect(h.live.state).toBe('offline');
		expect(h.closes).toEqual([{ code: 4000, reason: 'heartbeat timeout' }]);
		// Its close handshake never completing changes nothing; completing it changes nothing either.
		silent.closed(1006);
		expect(h.closes).toHaveLength(1);
		vi.advanceTimersByTime(999);
		expect(FakeSocket.made).toHaveLength(1);
		vi.advanceTimersByTime(1);
		expect(FakeSocket.made).toHaveLength(2);
		expect(h.live.state).toBe('connecting');
	});

	it('waits twice as long after each failed attempt and starts over after a successful open', () => {
		const h = harness();
		h.live.start();
		latest().accept();
		const waits: number[] = [];
		const waitForNextSocket = () => {
			const before = FakeSocket.made.length;
			let waited = 0;
			while (FakeSocket.made.length === before) {
				vi.advanceTimersByTime(1);
				waited++;
				if (waited > 60_000) throw new Error('never reconnected');
			}
			waits.push(waited);
		};
		latest().closed(1006);
		waitForNextSocket();
		latest().closed(1006);
		waitForNextSocket();
		latest().closed(1006);
		waitForNextSocket();
		latest().accept();
		latest().closed(1001);
		waitForNextSocket();
		expect(waits).toEqual([1000, 2000, 4000, 1000]);
		expect(h.closes.map((c) => c.code)).toEqual([1006, 1006, 1006, 1001]);
	});

	it('stays closed after a close its owner declares final', () => {
		const h = harness({ final: (close) => close.code === 4003 });
		h.live.start();
		latest().accept();
		latest().closed(4003, 'removed');
		expect(h.live.state).toBe('closed');
		expect(h.closes).toEqual([{ code: 4003, reason: 'removed' }]);
		vi.advanceTimersByTime(120_000);
		h.window.dispatchEvent(new Event('online'));
		expect(FakeSocket.made).toHaveLength(1);
	});

	it('reconnects at once when the network comes back while offline', () => {
		const h = harness();
		h.live.start();
		latest().accept();
		// Run up the backoff so that waiting for it would take seconds.
		for (let i = 0; i < 3; i++) {
			latest().closed(1006);
			vi.runOnlyPendingTimers();
		}
		latest().closed(1006);
		expect(h.live.state).toBe('offline');
		const made = FakeSocket.made.length;
		h.window.dispatchEvent(new Event('online'));
		expect(FakeSocket.made).toHaveLength(made + 1);
		expect(h.live.state).toBe('connecting');
		// The pending backoff timer is gone, and the attempt count starts over.
		vi.advanceTimersByTime(60_000);
		expect(FakeSocket.made).toHaveLength(made + 1);
		latest().closed(1006);
		vi.advanceTimersByTime(999);
		expect(FakeSocket.made).toHaveLength(made + 1);
		vi.advanceTimersByTime(1);
		expect(FakeSocket.made).toHaveLength(made + 2);
	});

	it('ignores the network coming back while it is open', () => {
		const h = harness();
		h.live.start();
		latest().accept();
		h.window.dispatchEvent(new Event('online'));
		expect(FakeSocket.made).toHaveLength(1);
		expect(h.live.state).toBe('open');
	});

	it('drops the socket at once when the window goes offline', () => {
		const h = harness();
		h.live.start();
		const socket = latest();
		socket.accept();
		h.window.dispatchEvent(new Event('offline'));
		expect(socket.closedWith).toEqual({ code: 4000, reason: 'heartbeat timeout' });
		expect(h.live.state).toBe('offline');
		expect(h.closes).toHaveLength(1);
	});

	it('closes with 1000 on stop and never reconnects, whatever happens after', () => {
		const h = harness();
		h.live.start();
		const socket = latest();
		socket.accept();
		h.live.stop();
		expect(socket.closedWith).toEqual({ code: 1000, reason: 'leaving' });
		expect(h.live.state).toBe('closed');
		socket.closed(1000, 'leaving');
		h.window.dispatchEvent(new Event('online'));
		h.window.dispatchEvent(new Event('offline'));
		vi.advanceTimersByTime(120_000);
		expect(FakeSocket.made).toHaveLength(1);
		expect(socket.pings()).toBe(0);
		expect(h.closes).toEqual([]);
		expect(h.live.send('after stop')).toBe(false);
	});

	it('cancels a pending reconnect on stop', () => {
		const h = harness();
		h.live.start();
		latest().accept();
		latest().closed(1006);
		expect(h.live.state).toBe('offline');
		h.live.stop();
		vi.advanceTimersByTime(120_000);
		expect(FakeSocket.made).toHaveLength(1);
		expect(h.live.state).toBe('closed');
	});
});
