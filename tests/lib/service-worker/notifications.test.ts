import { describe, expect, it } from 'vitest';
import {
	combine,
	openFromNotification,
	pickWindow,
	readingRoom,
	readPush,
	type WindowLike
} from '$lib/service-worker/notifications';
import { roomNotification, type RoomNews } from '$shared/notify';

const origin = 'https://parley.test';

const news: RoomNews = {
	roomId: 'r1',
	reason: 'unread',
	seq: 7,
	at: 1_700_000_000_000,
	senderName: 'Bob',
	preview: 'See you at six',
	roomName: 'Hike',
	count: 2
};

function data(value: unknown) {
	return { json: () => value };
}

describe('readPush', () => {
	it('reads a payload built by roomNotification', () => {
		const payload = roomNotification(news);
		expect(readPush(data(payload))).toEqual(payload);
	});

	it('ignores an empty push, a body that is not JSON, and JSON of another shape', () => {
		expect(readPush(null)).toBeNull();
		expect(
			readPush({
				json: () => {
					throw new SyntaxError('not JSON');
				}
			})
		).toBeNull();
		expect(readPush(data({ title: 'hi' }))).toBeNull();
	});
});

describe('combine', () => {
	it('shows the first of a burst as it came, with its count and where it goes', () => {
		const payload = roomNotification({ ...news, count: 1 });
		const { title, options } = combine(payload, undefined);
		expect(title).toBe('Bob in Hike');
		expect(options).toMatchObject({
			tag: 'room:r1',
			body: 'See you at six',
			data: { url: '/rooms/r1?m=7', count: 1 }
		});
	});

	it('adds the count of the notification already shown and puts the count line above', () => {
		const payload = roomNotification({ ...news, count: 2, seq: 9, preview: 'Bring water' });
		const { options } = combine(payload, { url: '/rooms/r1?m=7', count: 3 });
		expect(options.data).toEqual({ url: '/rooms/r1?m=9', count: 5 });
		expect(options.body).toBe('5 new messages\nBring water');
	});

	it('counts a payload of several messages even when nothing was shown', () => {
		const { options } = combine(roomNotification(news), null);
		expect(options.body).toBe('2 new messages\nSee you at six');
	});

	it('starts again from the payload when the shown data is not ours', () => {
		const { options } = combine(roomNotification({ ...news, count: 1 }), { count: 'x' });
		expect(options.data.count).toBe(1);
	});
});

const on = (path: string, extra: Partial<WindowLike> = {}): WindowLike => ({
	url: origin + path,
	focused: false,
	visibilityState: 'visible',
	...extra
});

describe('readingRoom', () => {
	const room = `${origin}/rooms/r1?m=7`;

	it('holds for a focused, visible window on the room, whatever message it is at', () => {
		expect(readingRoom([on('/rooms/r1', { focused: true })], room)).toBe(true);
	});

	it('does not hold for a hidden or unfocused window on it, or a focused one elsewhere', () => {
		expect(readingRoom([on('/rooms/r1', { focused: true, visibilityState: 'hidden' })], room)).toBe(
			false
		);
		expect(readingRoom([on('/rooms/r1')], room)).toBe(false);
		expect(readingRoom([on('/rooms/r2', { focused: true })], room)).toBe(false);
		expect(readingRoom([], room)).toBe(false);
	});
});

describe('pickWindow', () => {
	const room = `${origin}/rooms/r1?m=7`;

	it('prefers a window already on the room, then the focused one, then any', () => {
		const home = on('/', { focused: true });
		const there = on('/rooms/r1');
		const other = on('/friends');
		expect(pickWindow([home, there, other], room)).toBe(there);
		expect(pickWindow([other, home], room)).toBe(home);
		expect(pickWindow([other], room)).toBe(other);
		expect(pickWindow([], room)).toBeNull();
	});
});

type FakeWindow = WindowLike & {
	log: string[];
	controlled: boolean;
	mayFocus: boolean;
	focus(): Promise<FakeWindow>;
	navigate(url: string): Promise<unknown>;
};

function fakeWindow(path: string, options: Partial<FakeWindow> = {}): FakeWindow {
	const w: FakeWindow = {
		...on(path),
		log: [],
		controlled: true,
		mayFocus: true,
		async focus() {
			if (!w.mayFocus)
				throw new DOMException('Not allowed to focus a window.', 'InvalidAccessError');
			w.log.push('focus');
			return w;
		},
		async navigate(url: string) {
			if (!w.controlled) throw new TypeError('This service worker is not the client’s active one.');
			w.log.push(`navigate ${url}`);
			w.url = url;
			return w;
		},
		...options
	};
	return w;
}

function fakeClients(windows: FakeWindow[]) {
	const opened: string[] = [];
	return {
		opened,
		matchAll: async () => windows,
		openWindow: async (url: string) => void opened.push(url)
	};
}

describe('openFromNotification', () => {
	const shown = { url: '/rooms/r1?m=7', count: 2 };

	it('focuses the window on the room and takes it to the message', async () => {
		const home = fakeWindow('/', { focused: true });
		const there = fakeWindow('/rooms/r1');
		const clients = fakeClients([home, there]);
		await openFromNotification(clients, origin, shown);
		expect(there.log).toEqual(['focus', `navigate ${origin}/rooms/r1?m=7`]);
		expect(home.log).toEqual([]);
		expect(clients.opened).toEqual([]);
	});

	it('still navigates a window it may not focus', async () => {
		const home = fakeWindow('/', { mayFocus: false });
		const clients = fakeClients([home]);
		await openFromNotification(clients, origin, shown);
		expect(home.log).toEqual([`navigate ${origin}/rooms/r1?m=7`]);
		expect(clients.opened).toEqual([]);
	});

	it('opens a window when none is open, or the one there cannot be navigated', async () => {
		const none = fakeClients([]);
		await openFromNotification(none, origin, shown);
		expect(none.opened).toEqual([`${origin}/rooms/r1?m=7`]);

		const stranger = fakeWindow('/', { controlled: false });
		const clients = fakeClients([stranger]);
		await openFromNotification(clients, origin, shown);
		expect(clients.opened).toEqual([`${origin}/rooms/r1?m=7`]);
	});

	it('opens the home page for a notification without our data', async () => {
		const clients = fakeClients([]);
		await openFromNotification(clients, origin, null);
		expect(clients.opened).toEqual([`${origin}/`]);
	});
});
