// The room's coalesced state frames on their own: the real presence, typing and fan-out books,
// stand-in members and sockets, and a fake clock. What goes out, how often, and what the welcome
// and the last-seen answer carry.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
	ROOM_STATE_INTERVAL_MS,
	TYPING_TTL_MS,
	type PresenceEntry,
	type ReceiptEntry,
	type ServerFrame
} from '$shared/protocol';
import { Fanout } from '../../../workers/realtime/src/fanout';
import type { Member } from '../../../workers/realtime/src/members';
import { PresenceBook } from '../../../workers/realtime/src/presence';
import {
	RECEIPTS_LIVE_LIMIT,
	STATE_GATHER_MS,
	StateFrames,
	WELCOME_LAST_SEEN
} from '../../../workers/realtime/src/state-frames';
import { TypingBook } from '../../../workers/realtime/src/typing';

const T0 = 1_700_000_000_000;

class FakeSocket {
	payloads: string[] = [];
	send(data: string) {
		this.payloads.push(data);
	}
	frames(): ServerFrame[] {
		return this.payloads.flatMap((p) => {
			const data = JSON.parse(p) as ServerFrame | ServerFrame[];
			return Array.isArray(data) ? data : [data];
		});
	}
	of<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }>[] {
		return this.frames().filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
	}
}

/** What the frames read of the member store: who the room knows, and who left most recently. */
class FakeMembers {
	map = new Map<string, Member>();
	add(userId: string, fields: Partial<Member> = {}): Member {
		const member: Member = {
			userId,
			username: userId,
			name: userId.toUpperCase(),
			shareReceipts: true,
			readSeq: 0,
			readFlushed: 0,
			deliveredSeq: 0,
			lastSeenAt: null,
			...fields
		};
		this.map.set(userId, member);
		return member;
	}
	get(userId: string) {
		return this.map.get(userId);
	}
	all() {
		return this.map.values();
	}
	*recentlyGone() {
		const gone = [...this.map.values()].filter((m) => m.lastSeenAt !== null);
		yield* gone.sort((a, b) => b.lastSeenAt! - a.lastSeenAt!);
	}
}

function setup(options: { membersRev?: number } = {}) {
	const members = new FakeMembers();
	const presence = new PresenceBook();
	const typing = new TypingBook();
	const fanout = new Fanout();
	const sharing = new FakeSocket();
	const private_ = new FakeSocket();
	for (const s of [sharing, private_]) fanout.subscribe(s as unknown as WebSocket);
	const saved: number[] = [];
	const frames = new StateFrames({
		messages: { lastSeq: 42, rev: 7 },
		members,
		presence,
		typing,
		fanout,
		readerShares: (ws) => ws !== (private_ as unknown as WebSocket),
		membersRev: options.membersRev ?? 0,
		saveMembersRev: (rev) => saved.push(rev)
	});
	/** Moves the clock on, then lets the fan-out send what is queued (its own timer waits 1 ms more). */
	const advance = (ms: number) => {
		vi.advanceTimersByTime(ms);
		fanout.flush();
	};
	return { members, presence, typing, fanout, sharing, private_, saved, frames, advance };
}

type Welcome = Extract<ServerFrame, { type: 'welcome' }>;

beforeEach(() => {
	vi.useFakeTimers();
	vi.setSystemTime(T0);
});

afterEach(() => {
	vi.useRealTimers();
});

describe('the state frames', () => {
	it('gathers a first change briefly, then sends one frame for the whole burst', () => {
		const { members, presence, sharing, frames, advance } = setup();
		for (const id of ['a', 'b', 'c']) {
			members.add(id);
			presence.add(id, false);
			frames.schedule();
		}
		advance(STATE_GATHER_MS - 1);
		expect(sharing.frames()).toEqual([]);
		advance(1);
		const sent = sharing.of('presence');
		expect(sent).toHaveLength(1);
		expect(sent[0]!.members.map((m) => [m.userId, m.state])).toEqual([
			['a', 'online'],
			['b', 'online'],
			['c', 'online']
		]);
	});

	it('sends at most one frame per interval, however many changes come', () => {
		const { members, presence, sharing, frames, advance } = setup();
		members.add('a');
		presence.add('a', false);
		frames.schedule();
		advance(STATE_GATHER_MS);
		expect(sharing.of('presence')).toHaveLength(1);
		// Changes right after a frame wait for the interval to pass since it.
		for (let i = 0; i < 20; i++) {
			presence.setAway('a', i % 2 === 1, i % 2 === 0);
			presence.touch('a');
			frames.schedule();
			advance(10);
		}
		advance(ROOM_STATE_INTERVAL_MS - 200 - 1);
		expect(sharing.of('presence')).toHaveLength(1);
		advance(1);
		expect(sharing.of('presence')).toHaveLength(2);
		expect(sharing.of('presence')[1]!.members).toEqual([
			{ userId: 'a', name: 'A', username: 'a', state: 'online', lastSeenAt: null }
		]);
	});

	it('sends nothing once stopped', () => {
		const { members, presence, sharing, frames, advance } = setup();
		members.add('a');
		presence.add('a', false);
		frames.schedule();
		frames.stop();
		advance(10 * ROOM_STATE_INTERVAL_MS);
		expect(sharing.frames()).toEqual([]);
	});

	it('counts membership changes, stores the count, and sends one members frame for a burst', () => {
		const { saved, sharing, frames, advance } = setup({ membersRev: 5 });
		frames.noteMemberChange('x', { userId: 'x', name: 'X', username: 'x' });
		frames.noteMemberChange('y', { userId: 'y', name: 'Y', username: 'y' });
		frames.noteMemberChange('z', null);
		expect(saved).toEqual([6, 7, 8]);
		expect(frames.membersRev).toBe(8);
		advance(STATE_GATHER_MS);
		const sent = sharing.of('members');
		expect(sent).toHaveLength(1);
		expect(sent[0]!.joined.map((m) => m.userId)).toEqual(['x', 'y']);
		expect(sent[0]!.left).toEqual(['z']);
		expect(sent[0]!.rev).toBe(8);
	});

	it('shows a read position only to readers who share theirs, and only of those who share', () => {
		const { members, presence, sharing, private_, frames, advance } = setup();
		members.add('a', { readSeq: 3, deliveredSeq: 4 });
		members.add('b', { readSeq: 2, deliveredSeq: 2, shareReceipts: false });
		presence.add('a', false);
		frames.noteReceipt('a');
		frames.noteReceipt('b');
		advance(STATE_GATHER_MS);
		const byId = (receipts: ReceiptEntry[]) =>
			Object.fromEntries(receipts.map((r) => [r.userId, r]));
		const seen = byId(sharing.of('receipt')[0]!.receipts);
		expect(seen.a).toEqual({ userId: 'a', readSeq: 3, deliveredSeq: 4 });
		expect(seen.b).toEqual({ userId: 'b', readSeq: null, deliveredSeq: 2 });
		const hidden = byId(private_.of('receipt')[0]!.receipts);
		expect(hidden.a!.readSeq).toBeNull();
		expect(hidden.a!.deliveredSeq).toBe(4);
	});

	it(`sends no receipts while more than ${RECEIPTS_LIVE_LIMIT} members are online`, () => {
		const { members, presence, sharing, frames, advance } = setup();
		for (let i = 0; i <= RECEIPTS_LIVE_LIMIT; i++) presence.add(`u${i}`, false);
		members.add('u0', { readSeq: 9 });
		frames.noteReceipt('u0');
		advance(STATE_GATHER_MS);
		expect(sharing.of('receipt')).toEqual([]);
		expect(sharing.of('presence')).toHaveLength(1);
		const welcome = JSON.parse(frames.welcome({ userId: 'u0', receipts: true })) as Welcome;
		expect(welcome.receipts).toEqual([]);

		// One fewer online, and they show again.
		presence.remove(`u${RECEIPTS_LIVE_LIMIT}`, false);
		frames.noteReceipt('u0');
		advance(ROOM_STATE_INTERVAL_MS);
		expect(sharing.of('receipt')).toHaveLength(1);
	});

	it('drops a typist from the list when their typing expires, by itself', () => {
		const { typing, sharing, frames, advance } = setup();
		if (typing.touch('a', 'Alice', Date.now())) frames.schedule();
		advance(STATE_GATHER_MS);
		expect(sharing.of('typing').map((f) => f.users)).toEqual([[{ userId: 'a', name: 'Alice' }]]);
		advance(TYPING_TTL_MS);
		expect(sharing.of('typing').map((f) => f.users)).toEqual([
			[{ userId: 'a', name: 'Alice' }],
			[]
		]);
	});
});

describe('the welcome', () => {
	it("carries the room's state for its reader, and only the most recent last-seen times", () => {
		const { members, presence, typing, frames } = setup({ membersRev: 3 });
		members.add('me', { readSeq: 40, deliveredSeq: 40 });
		presence.add('me', false);
		members.add('away', { readSeq: 12, shareReceipts: false });
		presence.add('away', true);
		members.add('never');
		for (let i = 0; i < WELCOME_LAST_SEEN + 10; i++) {
			members.add(`gone${i}`, { lastSeenAt: T0 - 1000 * (i + 1) });
		}
		typing.touch('away', 'Away', Date.now());

		const mine = JSON.parse(frames.welcome({ userId: 'me', receipts: true })) as Welcome;
		expect(mine).toMatchObject({
			type: 'welcome',
			userId: 'me',
			lastSeq: 42,
			rev: 7,
			readSeq: 40,
			readReceipts: true,
			membersRev: 3,
			typing: [{ userId: 'away', name: 'Away' }]
		});
		const states = (presence: PresenceEntry[]) => presence.map((p) => [p.userId, p.state]);
		expect(states(mine.presence).slice(0, 2)).toEqual([
			['me', 'online'],
			['away', 'away']
		]);
		const offline = mine.presence.slice(2);
		expect(offline).toHaveLength(WELCOME_LAST_SEEN);
		expect(offline.map((p) => p.userId)).toEqual(
			Array.from({ length: WELCOME_LAST_SEEN }, (_, i) => `gone${i}`)
		);
		expect(offline[0]!.lastSeenAt).toBe(T0 - 1000);
		expect(mine.receipts).toContainEqual({ userId: 'away', readSeq: null, deliveredSeq: 0 });
		expect(mine.receipts).toContainEqual({ userId: 'me', readSeq: 40, deliveredSeq: 40 });
		expect(mine.receipts.map((r) => r.userId)).not.toContain('never');

		const theirs = JSON.parse(frames.welcome({ userId: 'away', receipts: false })) as Welcome;
		expect(theirs.readSeq).toBe(12);
		expect(theirs.readReceipts).toBe(false);
		expect(theirs.receipts).toContainEqual({ userId: 'me', readSeq: null, deliveredSeq: 40 });
	});

	it(`carries at most ${RECEIPTS_LIVE_LIMIT} readers, the furthest, and whoever received the most`, () => {
		const { members, frames } = setup();
		for (let i = 1; i <= RECEIPTS_LIVE_LIMIT + 50; i++) members.add(`r${i}`, { readSeq: i });
		members.add('lurker', { deliveredSeq: 10_000 });
		const welcome = JSON.parse(frames.welcome({ userId: 'r1', receipts: true })) as Welcome;
		const ids = welcome.receipts.map((r) => r.userId);
		expect(ids).toHaveLength(RECEIPTS_LIVE_LIMIT + 1);
		expect(ids).toContain(`r${RECEIPTS_LIVE_LIMIT + 50}`);
		expect(ids).not.toContain('r1');
		expect(ids).toContain('lurker');
	});

	it('is serialized once per state frame, not once per join', () => {
		const { members, presence, frames, advance } = setup();
		members.add('a');
		members.add('b');
		presence.add('a', false);
		const first = frames.welcome({ userId: 'a', receipts: true });
		presence.add('b', false);
		// Until the next state frame, joins get the same snapshot (the presence frame follows).
		expect(frames.welcome({ userId: 'a', receipts: true })).toBe(first);
		frames.schedule();
		advance(STATE_GATHER_MS);
		const next = JSON.parse(frames.welcome({ userId: 'a', receipts: true })) as Welcome;
		expect(next.presence.map((p) => p.userId)).toEqual(['a', 'b']);

		members.map.delete('b');
		frames.invalidate();
		const after = JSON.parse(frames.welcome({ userId: 'a', receipts: true })) as Welcome;
		expect(after.presence.map((p) => p.userId)).toEqual(['a']);
	});
});

describe('the last-seen answer', () => {
	it('lists every offline member seen before, and nobody online', () => {
		const { members, presence, frames } = setup();
		members.add('here');
		presence.add('here', false);
		members.add('never');
		for (let i = 0; i < WELCOME_LAST_SEEN + 10; i++)
			members.add(`gone${i}`, { lastSeenAt: T0 - i });
		const answer = JSON.parse(frames.lastSeen()) as Extract<ServerFrame, { type: 'presence' }>;
		expect(answer.type).toBe('presence');
		expect(answer.members).toHaveLength(WELCOME_LAST_SEEN + 10);
		expect(answer.members.every((m) => m.state === 'offline' && m.lastSeenAt !== null)).toBe(true);
		// Serialized once, until the state changes.
		expect(frames.lastSeen()).toBe(frames.lastSeen());
		members.map.delete('gone0');
		frames.invalidate();
		const next = JSON.parse(frames.lastSeen()) as Extract<ServerFrame, { type: 'presence' }>;
		expect(next.members).toHaveLength(WELCOME_LAST_SEEN + 9);
	});
});
