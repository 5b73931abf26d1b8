// What an open tab does with hub news (issue 16): notify only while hidden, and one notification
// per room whose count adds up once per signal, however many of my tabs receive it.
import { describe, expect, it } from 'vitest';
import type { HubFrame } from '$shared/protocol/hub';
import { NO_QUIET_HOURS, roomNotification } from '$shared/notify';
import { SEALED_PREVIEW } from '$shared/preview';
import {
	nextNotification,
	shouldShowInTab,
	type RoomFrame,
	type TabState
} from '$lib/client/tab-notifications';

const NOON = Date.UTC(2026, 0, 5, 12, 0);

function roomFrame(overrides: Partial<RoomFrame> = {}): RoomFrame {
	return {
		type: 'room',
		roomId: 'r1',
		reason: 'mention',
		seq: 7,
		at: NOON,
		senderName: 'Alice',
		preview: 'hello @bob',
		roomName: 'Trip',
		count: 1,
		alert: true,
		...overrides
	};
}

const hiddenTab: TabState = {
	hidden: true,
	quiet: NO_QUIET_HOURS,
	permission: 'granted',
	chosen: true,
	now: NOON
};

describe('whether a tab shows a notification', () => {
	it('shows alerting room news while hidden, with permission, turned on, outside quiet hours', () => {
		expect(shouldShowInTab(roomFrame(), hiddenTab)).toBe(true);
	});

	it('stays quiet for each reason not to', () => {
		const no = (frame: HubFrame, tab: Partial<TabState>) =>
			expect(shouldShowInTab(frame, { ...hiddenTab, ...tab })).toBe(false);
		no(roomFrame(), { hidden: false });
		no(roomFrame({ alert: false }), {});
		no(roomFrame(), { permission: 'default' });
		no(roomFrame(), { permission: 'denied' });
		no(roomFrame(), { chosen: false });
		no(roomFrame(), { quiet: { ...NO_QUIET_HOURS, dndUntil: NOON + 1 } });
		// 11:00 to 13:00 UTC holds at noon.
		no(roomFrame(), { quiet: { ...NO_QUIET_HOURS, dndStart: 660, dndEnd: 780 } });
		no({ type: 'inbox', unread: 3 }, {});
		no({ type: 'presence', userId: 'u', online: true }, {});
	});

	it('shows again once a pause has ended', () => {
		const quiet = { ...NO_QUIET_HOURS, dndUntil: NOON };
		expect(shouldShowInTab(roomFrame(), { ...hiddenTab, quiet })).toBe(true);
	});
});

describe('the notification a tab shows', () => {
	it('says who, where and what, tagged by room, and links to the message', () => {
		const next = nextNotification(roomNotification(roomFrame()), 7, null);
		expect(next).toMatchObject({
			title: 'Alice in Trip',
			options: {
				tag: 'room:r1',
				body: 'hello @bob',
				data: { url: '/rooms/r1?m=7', count: 1, seq: 7 }
			}
		});
	});

	it('carries no words of an end-to-end encrypted message: only who sent it', () => {
		const sealed = roomNotification(
			roomFrame({ preview: SEALED_PREVIEW, reason: 'direct', roomName: '' })
		);
		expect(sealed).toMatchObject({ title: 'Alice', body: 'Alice sent a message' });
		const mention = roomNotification(roomFrame({ preview: SEALED_PREVIEW }));
		expect(mention).toMatchObject({ title: 'Alice in Trip', body: 'Alice mentioned you' });
	});

	it('adds its count to the one already shown, and shows the count above the last line', () => {
		const burst = roomFrame({ seq: 11, count: 3, preview: 'last one', reason: 'unread' });
		const next = nextNotification(roomNotification(burst), 11, { url: '/x', count: 2, seq: 8 });
		expect(next?.options).toMatchObject({
			tag: 'room:r1',
			body: '5 new messages\nlast one',
			data: { count: 5, seq: 11 }
		});
		// A push's notification carries no seq: the tab's news is newer.
		expect(
			nextNotification(roomNotification(burst), 11, { url: '/x', count: 1 })?.options.data.count
		).toBe(4);
	});

	it('shows nothing for a signal another of my tabs has already shown', () => {
		const frame = roomFrame({ seq: 9, count: 2 });
		const shown = nextNotification(roomNotification(frame), 9, null)!.options.data;
		expect(nextNotification(roomNotification(frame), 9, shown)).toBeNull();
		expect(nextNotification(roomNotification(roomFrame({ seq: 8 })), 8, shown)).toBeNull();
	});
});
