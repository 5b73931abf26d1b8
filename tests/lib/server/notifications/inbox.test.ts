// The notifications inbox: what puts items in it, who sees them, paging, read state and the hub's
// count, through the module and through its endpoints and page actions as SvelteKit runs them.
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { notifications, pushSubscriptions } from '$shared/db/schema';
import { countUnreadNotifications } from '$shared/db/notifications';
import {
	acceptFriendRequest,
	cancelFriendRequest,
	declineFriendRequest,
	sendFriendRequest
} from '$lib/server/people/friends';
import { blockUser } from '$lib/server/people/blocks';
import { deleteAccount } from '$lib/server/accounts/deletion';
import { createGroup } from '$lib/server/rooms/groups';
import { addMember, leaveRoom, removeMember } from '$lib/server/rooms/members';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import {
	addToInbox,
	INBOX_PAGE_SIZE,
	listInbox,
	markInboxRead,
	markRoomRead,
	openInboxItem
} from '$lib/server/notifications/inbox';
import { GET } from '../../../../src/routes/api/notifications/+server';
import { POST } from '../../../../src/routes/api/notifications/read/+server';
import { actions } from '../../../../src/routes/notifications/+page.server';
import { db, seedRoom, type Person } from '../../../helpers';
import { befriend, block, connectHub, rt, seedPerson } from '../../../support/people';
import { signedInBrowser } from '../../../support/accounts';
import type { TestBrowser } from '../../../support/request-event';

let seq = 0;

/** An item as the room's flush writes one: a mention in `roomId` by `actor`, at `at`. */
async function seedMention(person: Person, roomId: string, actor: Person, at = Date.now()) {
	const id = `n${++seq}${Math.random().toString(36).slice(2, 8)}`;
	await db()
		.insert(notifications)
		.values({
			id,
			userId: person.id,
			kind: 'mention',
			key: `mention:${roomId}:${seq}`,
			roomId,
			seq,
			actorId: actor.id,
			preview: `hello ${seq}`,
			createdAt: at,
			updatedAt: at
		});
	return id;
}

async function rowsOf(person: Person) {
	return db().select().from(notifications).where(eq(notifications.userId, person.id));
}

const unreadOf = (person: Person) => countUnreadNotifications(db(), person.id);

/** A JSON POST from the app's own page (or `origin`), as the browser sends it. */
function postJson(browser: TestBrowser, json: unknown, origin = 'https://parley.test') {
	return browser.call(POST, {
		path: '/api/notifications/read',
		json,
		headers: { origin }
	});
}

async function jsonOf(outcome: Awaited<ReturnType<TestBrowser['call']>>) {
	if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}`);
	return { status: outcome.response.status, body: (await outcome.response.json()) as never };
}

describe('what puts items in the inbox', () => {
	it('a friend request, brought back unread when it comes again, and the hub hears the count', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const bobTab = await connectHub(bob);

		await sendFriendRequest(db(), rt(), ann.id, bob.id);
		await bobTab.next('inbox', (f) => f.unread === 1);
		const { items } = await listInbox(db(), bob.id);
		expect(items).toEqual([
			expect.objectContaining({
				kind: 'friend_request',
				url: '/friends',
				summary: 'Ann sent you a friend request',
				actor: { id: ann.id, username: ann.username, displayName: 'Ann' },
				unread: true
			})
		]);

		await markInboxRead(db(), rt(), bob.id, { all: true });
		await bobTab.next('inbox', (f) => f.unread === 0);
		await declineFriendRequest(db(), rt(), bob.id, ann.id);
		await sendFriendRequest(db(), rt(), ann.id, bob.id);
		const again = await rowsOf(bob);
		expect(again).toHaveLength(1);
		expect(again[0]).toMatchObject({ key: `friend_request:${ann.id}`, readAt: null });
		expect(await unreadOf(bob)).toBe(1);
		bobTab.close();
	});

	it('an accepted request tells the one who asked; an answered or withdrawn one is read', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		await sendFriendRequest(db(), rt(), ann.id, bob.id);
		expect(await unreadOf(bob)).toBe(1);
		await acceptFriendRequest(db(), rt(), bob.id, ann.id);
		// Answered: the request's own item is read.
		expect(await unreadOf(bob)).toBe(0);
		const cat = await seedPerson('cat');
		await sendFriendRequest(db(), rt(), cat.id, bob.id);
		expect(await unreadOf(bob)).toBe(1);
		await cancelFriendRequest(db(), rt(), cat.id, bob.id);
		expect(await unreadOf(bob)).toBe(0);
		const { items } = await listInbox(db(), ann.id);
		expect(items).toEqual([
			expect.objectContaining({
				kind: 'friend_accepted',
				summary: 'Bob accepted your friend request',
				url: `/u/${bob.username}`
			})
		]);
	});

	it('being added to a group by someone else, at its creation or later, but not one’s own doing', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const cat = await seedPerson('cat');
		await befriend(ann, bob);
		await befriend(ann, cat);
		const made = await createGroup(db(), rt(), ann, {
			name: 'Climbing',
			description: '',
			memberIds: [bob.id]
		});
		if (!made.ok) throw new Error(made.message);
		expect((await listInbox(db(), bob.id)).items).toEqual([
			expect.objectContaining({
				kind: 'group_added',
				summary: 'Ann added you to Climbing',
				url: `/rooms/${made.roomId}`,
				room: { id: made.roomId, name: 'Climbing', kind: 'group' }
			})
		]);
		expect(await rowsOf(ann)).toEqual([]);

		expect(await addMember(db(), rt(), ann, made.roomId, cat.username)).toEqual({ ok: true });
		expect((await rowsOf(cat)).map((r) => r.key)).toEqual([`group_added:${made.roomId}`]);
	});

	it('nothing about someone with a block between them, either way', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const roomId = await seedRoom(ann, bob);
		await block(bob, ann);
		await addToInbox(db(), rt(), { kind: 'friend_request', userId: bob.id, actorId: ann.id });
		await addToInbox(db(), rt(), { kind: 'group_added', userId: bob.id, actorId: ann.id, roomId });
		await addToInbox(db(), rt(), { kind: 'friend_accepted', userId: ann.id, actorId: bob.id });
		expect(await rowsOf(bob)).toEqual([]);
		expect(await rowsOf(ann)).toEqual([]);
	});
});

describe('who sees which items', () => {
	it('pages newest first by cursor, with no item twice and none missed, ties included', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const roomId = await seedRoom(bob, ann);
		const at = Date.now();
		const ids: string[] = [];
		// Several items share a time: the id orders them, and a page may end among them.
		for (let i = 0; i < 2 * INBOX_PAGE_SIZE + 7; i++) {
			ids.push(await seedMention(ann, roomId, bob, at - Math.floor(i / 4)));
		}
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const page = await listInbox(db(), ann.id, cursor);
			expect(page.items.length).toBeLessThanOrEqual(INBOX_PAGE_SIZE);
			seen.push(...page.items.map((item) => item.id));
			cursor = page.nextCursor;
			pages++;
		} while (cursor !== null);
		expect(pages).toBe(3);
		expect(new Set(seen).size).toBe(ids.length);
		expect(seen.sort()).toEqual([...ids].sort());
		const first = await listInbox(db(), ann.id);
		const times = first.items.map((item) => item.at);
		expect(times).toEqual([...times].sort((a, b) => b - a));
	});

	it('shows a room’s items only while the person may read the room', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const cat = await seedPerson('cat');
		const stays = await seedRoom(bob, ann);
		const left = await seedRoom(bob, ann);
		const removed = await seedRoom(bob, ann);
		const kept = await seedMention(ann, stays, cat);
		const gone = await seedMention(ann, left, cat);
		await seedMention(ann, removed, cat);
		expect((await listInbox(db(), ann.id)).items).toHaveLength(3);

		expect(await leaveRoom(db(), rt(), ann, left)).toEqual({ ok: true });
		expect(await removeMember(db(), rt(), bob, removed, ann.id)).toEqual({ ok: true });
		const { items } = await listInbox(db(), ann.id);
		expect(items.map((item) => item.id)).toEqual([kept]);
		expect(items[0]).toMatchObject({
			summary: 'Cat mentioned you in Test room',
			url: `/rooms/${stays}?m=${items[0]!.seq}`,
			preview: expect.stringMatching(/^hello /)
		});
		expect(await unreadOf(ann)).toBe(1);
		expect(await openInboxItem(db(), rt(), ann.id, gone)).toBeNull();
	});

	it('a direct conversation is named after the other person, its count in words', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		await befriend(ann, bob);
		const direct = await findOrCreateDirectRoom(db(), ann.id, bob.id);
		if (!direct.ok) throw new Error(direct.message);
		const now = Date.now();
		await db()
			.insert(notifications)
			.values({
				id: `d${now}`,
				userId: ann.id,
				kind: 'direct',
				key: `direct:${direct.roomId}`,
				roomId: direct.roomId,
				seq: 7,
				actorId: bob.id,
				preview: 'are you there?',
				count: 3,
				createdAt: now,
				updatedAt: now
			});
		const { items } = await listInbox(db(), ann.id);
		expect(items[0]).toMatchObject({
			summary: '3 new messages from Bob',
			room: { id: direct.roomId, kind: 'direct', name: 'Bob' },
			url: `/rooms/${direct.roomId}?m=7`,
			count: 3
		});

		// A block hides what there was, from the list and from the count.
		await blockUser(db(), rt(), ann.id, bob.id);
		expect((await listInbox(db(), ann.id)).items).toEqual([]);
		expect(await unreadOf(ann)).toBe(0);
	});
});

describe('read state', () => {
	it('one, one room, or all; another person’s ids change nothing', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const one = await seedRoom(bob, ann);
		const two = await seedRoom(bob, ann);
		const a = await seedMention(ann, one, bob);
		await seedMention(ann, two, bob);
		await seedMention(ann, two, bob);
		const bobs = await seedMention(bob, one, ann);
		const annTab = await connectHub(ann);

		expect(await markInboxRead(db(), rt(), bob.id, { ids: [a] })).toBe(1);
		expect(await unreadOf(ann)).toBe(3);
		expect(await markInboxRead(db(), rt(), ann.id, { ids: [a, bobs] })).toBe(2);
		await annTab.next('inbox', (f) => f.unread === 2);
		expect(await unreadOf(bob)).toBe(1);

		await markRoomRead(db(), rt(), ann.id, two);
		await annTab.next('inbox', (f) => f.unread === 0);
		await seedMention(ann, one, bob);
		await markInboxRead(db(), rt(), ann.id, { all: true });
		expect(await unreadOf(ann)).toBe(0);
		expect(await unreadOf(bob)).toBe(1);
		annTab.close();
	});
});

describe('the endpoints and the page', () => {
	it('GET pages with the count; a bad cursor is a 400', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const roomId = await seedRoom(bob, ann);
		for (let i = 0; i < INBOX_PAGE_SIZE + 1; i++) await seedMention(ann, roomId, bob);
		const browser = await signedInBrowser(ann);
		const first = await jsonOf(await browser.call(GET, { path: '/api/notifications' }));
		expect(first.status).toBe(200);
		const body = first.body as { items: unknown[]; nextCursor: string; unread: number };
		expect(body.items).toHaveLength(INBOX_PAGE_SIZE);
		expect(body.unread).toBe(INBOX_PAGE_SIZE + 1);
		const second = await jsonOf(
			await browser.call(GET, {
				path: `/api/notifications?cursor=${encodeURIComponent(body.nextCursor)}`
			})
		);
		expect(second.body).toMatchObject({ nextCursor: null, items: [expect.anything()] });
		const bad = await jsonOf(await browser.call(GET, { path: '/api/notifications?cursor=x;1' }));
		expect(bad).toMatchObject({ status: 400, body: { error: { code: 'bad_input' } } });
	});

	it('POST read: ids or all; bad input and other sites change nothing', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const roomId = await seedRoom(bob, ann);
		const a = await seedMention(ann, roomId, bob);
		await seedMention(ann, roomId, bob);
		const bobs = await seedMention(bob, roomId, ann);
		const browser = await signedInBrowser(ann);

		for (const bad of ['{', { ids: [] }, { ids: 'x' }, { all: false }, { ids: [a], all: true }]) {
			expect(await jsonOf(await postJson(browser, bad))).toMatchObject({
				status: 400,
				body: { error: { code: 'bad_input' } }
			});
		}
		expect(await jsonOf(await postJson(browser, { all: true }, 'https://evil.test'))).toMatchObject(
			{ status: 403 }
		);
		expect(await unreadOf(ann)).toBe(2);

		expect(await jsonOf(await postJson(browser, { ids: [a, bobs] }))).toEqual({
			status: 200,
			body: { unread: 1 }
		});
		expect(await unreadOf(bob)).toBe(1);
		expect(await jsonOf(await postJson(browser, { all: true }))).toEqual({
			status: 200,
			body: { unread: 0 }
		});
	});

	it('opening an item marks it read on the way to it; someone else’s is not found', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const room = await createRoom(db(), { kind: 'public', name: 'Lobby', createdBy: bob.id });
		await grantMembership(db(), room.id, ann.id);
		const mine = await seedMention(ann, room.id, bob);
		const theirs = await seedMention(bob, room.id, ann);
		const browser = await signedInBrowser(ann);

		const opened = await browser.call(actions.open, {
			path: '/notifications?/open',
			form: { id: mine }
		});
		expect(opened).toMatchObject({ kind: 'redirect', status: 303 });
		expect(opened.kind === 'redirect' && opened.location).toMatch(
			new RegExp(`^/rooms/${room.id}\\?m=\\d+$`)
		);
		expect(await unreadOf(ann)).toBe(0);

		const refused = await browser.call(actions.open, {
			path: '/notifications?/open',
			form: { id: theirs }
		});
		expect(refused).toMatchObject({ kind: 'failure', status: 404 });
		const [row] = await db()
			.select()
			.from(notifications)
			.where(and(eq(notifications.id, theirs), eq(notifications.userId, bob.id)));
		expect(row?.readAt).toBeNull();
	});
});

describe('deleting an account', () => {
	it('erases the person’s inbox and push subscriptions with the rest', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const roomId = await seedRoom(bob, ann);
		await seedMention(ann, roomId, bob);
		await db()
			.insert(pushSubscriptions)
			.values({
				id: `p${Date.now()}`,
				userId: ann.id,
				endpoint: `https://push.example.test/${ann.id}`,
				p256dh: 'key',
				auth: 'auth',
				createdAt: Date.now()
			});
		await deleteAccount(db(), ann.id, rt());
		expect(await rowsOf(ann)).toEqual([]);
		expect(
			await db().select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, ann.id))
		).toEqual([]);
	});
});
