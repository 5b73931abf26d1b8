// People and friends through the API: the same operations as the profile, people and friends
// pages, so the same rules (blocks, the DM setting, who may answer a request) and the same live
// effects in the other person's open tabs; account-wide, so never for a token limited to rooms.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { eq, inArray, or } from 'drizzle-orm';
import { blocks, friendships, memberships, rooms, users } from '$shared/db/schema';
import { RoomSummary } from '$lib/server/api/schemas';
import {
	BlockedAnswer,
	DirectAnswer,
	FriendLists,
	FriendRequestAnswer,
	PeopleAnswer,
	ProfileAnswer
} from '$lib/server/api/people-schemas';
import * as usersRoute from '../../../../src/routes/api/v1/users/+server';
import * as profileRoute from '../../../../src/routes/api/v1/users/[username]/+server';
import * as friendsRoute from '../../../../src/routes/api/v1/friends/+server';
import * as requestsRoute from '../../../../src/routes/api/v1/friend-requests/+server';
import * as requestRoute from '../../../../src/routes/api/v1/friend-requests/[username]/+server';
import * as acceptRoute from '../../../../src/routes/api/v1/friend-requests/[username]/accept/+server';
import * as declineRoute from '../../../../src/routes/api/v1/friend-requests/[username]/decline/+server';
import * as friendRoute from '../../../../src/routes/api/v1/friends/[username]/+server';
import * as blocksRoute from '../../../../src/routes/api/v1/blocks/+server';
import * as blockRoute from '../../../../src/routes/api/v1/blocks/[username]/+server';
import * as directRoute from '../../../../src/routes/api/v1/direct/+server';
import { db, seedRoom, type Person } from '../../../helpers';
import { befriend, block, connectHub, seedPerson } from '../../../support/people';
import { sessionFor, tokenFor, type Answer, type TokenClient } from './support';

type Client = Pick<TokenClient, 'call'>;

/** Every route of this part of the API, called as a script would. */
function api(client: Client) {
	const q = encodeURIComponent;
	return {
		search: (query: string) => client.call(usersRoute.GET, { path: `/api/v1/users${query}` }),
		profile: (username: string) =>
			client.call(profileRoute.GET, { path: `/api/v1/users/${q(username)}`, params: { username } }),
		friends: () => client.call(friendsRoute.GET, { path: '/api/v1/friends' }),
		request: (json: unknown) =>
			client.call(requestsRoute.POST, { path: '/api/v1/friend-requests', json }),
		cancel: (username: string) =>
			client.call(requestRoute.DELETE, {
				path: `/api/v1/friend-requests/${q(username)}`,
				method: 'DELETE',
				params: { username }
			}),
		accept: (username: string) =>
			client.call(acceptRoute.POST, {
				path: `/api/v1/friend-requests/${q(username)}/accept`,
				method: 'POST',
				params: { username }
			}),
		decline: (username: string) =>
			client.call(declineRoute.POST, {
				path: `/api/v1/friend-requests/${q(username)}/decline`,
				method: 'POST',
				params: { username }
			}),
		unfriend: (username: string) =>
			client.call(friendRoute.DELETE, {
				path: `/api/v1/friends/${q(username)}`,
				method: 'DELETE',
				params: { username }
			}),
		blocked: () => client.call(blocksRoute.GET, { path: '/api/v1/blocks' }),
		block: (username: string) =>
			client.call(blockRoute.PUT, {
				path: `/api/v1/blocks/${q(username)}`,
				method: 'PUT',
				params: { username }
			}),
		unblock: (username: string) =>
			client.call(blockRoute.DELETE, {
				path: `/api/v1/blocks/${q(username)}`,
				method: 'DELETE',
				params: { username }
			}),
		direct: (json: unknown) => client.call(directRoute.POST, { path: '/api/v1/direct', json })
	};
}

async function as(person: Person, scope: 'read' | 'write' = 'write') {
	return api(await tokenFor(person, { scope }));
}

function refusal(answer: Answer, status: number, code: string) {
	expect(answer.status, JSON.stringify(answer.body)).toBe(status);
	expect(answer.body.error.code).toBe(code);
	expect(answer.body.error.message).toMatch(/\w{3}/);
}

/** Everything these routes could change for these people: friendships, blocks, direct rooms. */
async function stateOf(...people: Person[]) {
	const ids = people.map((p) => p.id);
	const [pairs, blockRows, direct] = await Promise.all([
		db()
			.select()
			.from(friendships)
			.where(or(inArray(friendships.userLow, ids), inArray(friendships.userHigh, ids))),
		db()
			.select()
			.from(blocks)
			.where(or(inArray(blocks.blockerId, ids), inArray(blocks.blockedId, ids))),
		db()
			.select({ roomId: memberships.roomId })
			.from(memberships)
			.innerJoin(rooms, eq(rooms.id, memberships.roomId))
			.where(inArray(memberships.userId, ids))
	]);
	const sort = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
	return { pairs: sort(pairs), blocks: sort(blockRows), rooms: sort(direct) };
}

async function takesMessagesFromEveryone(person: Person) {
	await db().update(users).set({ dmPolicy: 'everyone' }).where(eq(users.id, person.id));
}

const usernames = (list: { username: string }[]) => list.map((p) => p.username);

describe('finding people and their profiles', () => {
	it('searches people by a prefix, with how I stand with each, as the people page does', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		await befriend(ana, bob);
		const found = await (await as(ana, 'read')).search(`?q=${encodeURIComponent(bob.username)}`);
		expect(found.status).toBe(200);
		expect(v.is(PeopleAnswer, found.body)).toBe(true);
		expect(found.body.people).toEqual([
			expect.objectContaining({ id: bob.id, username: bob.username, relation: 'friends' })
		]);
		// An @ before the name, and any case, find the same person.
		const byAt = await (await as(ana)).search(`?q=${encodeURIComponent(`@${bob.username}`)}`);
		expect(usernames(byAt.body.people)).toEqual([bob.username]);
	});

	it('hides people from each other across a block, whoever blocked', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await block(ana, bob);
		await block(cat, ana);
		const client = await as(ana);
		expect((await client.search(`?q=${bob.username}`)).body.people).toEqual([]);
		expect((await client.search(`?q=${cat.username}`)).body.people).toEqual([]);
	});

	it('shows a profile as its page does: relation, mutual friends, the DM setting', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await befriend(ana, cat);
		await befriend(bob, cat);
		const client = await as(ana, 'read');
		const answer = await client.profile(bob.username.toUpperCase());
		expect(answer.status).toBe(200);
		expect(v.is(ProfileAnswer, answer.body)).toBe(true);
		expect(answer.body.person).toMatchObject({
			id: bob.id,
			username: bob.username,
			displayName: 'Bob',
			relation: 'none',
			blockedByMe: false,
			dmPolicy: 'friends',
			mayMessage: false,
			directRoomId: null
		});
		expect(usernames(answer.body.person.mutualFriends)).toEqual([cat.username]);
		const mine = await client.profile(ana.username);
		expect(mine.body.person).toMatchObject({ id: ana.id, relation: 'self', mutualFriends: [] });
	});

	it('answers 404 for a missing person and for one who blocked me; shows one I blocked', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await block(bob, ana);
		await block(ana, cat);
		const client = await as(ana);
		refusal(await client.profile('nobody_here'), 404, 'not_found');
		refusal(await client.profile(bob.username), 404, 'not_found');
		const blocked = await client.profile(cat.username);
		expect(blocked.status).toBe(200);
		expect(blocked.body.person).toMatchObject({ id: cat.id, blockedByMe: true, mayMessage: false });
	});
});

describe('friends and requests', () => {
	it('sends, lists and accepts a request, reaching the other person’s open tabs', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		const [anas, bobs] = [await as(ana), await as(bob)];
		const bobTab = await connectHub(bob);
		const anaTab = await connectHub(ana);

		const sent = await anas.request({ username: bob.username });
		expect(sent.status).toBe(201);
		expect(v.is(FriendRequestAnswer, sent.body)).toBe(true);
		expect(sent.body).toEqual({ result: 'requested' });
		await bobTab.next('requests', (f) => f.incoming === 1);

		const anaLists = await anas.friends();
		expect(anaLists.status).toBe(200);
		expect(v.is(FriendLists, anaLists.body)).toBe(true);
		expect(usernames(anaLists.body.outgoing)).toEqual([bob.username]);
		expect(usernames((await bobs.friends()).body.incoming)).toEqual([ana.username]);

		const accepted = await bobs.accept(ana.username);
		expect([accepted.status, accepted.body]).toEqual([204, null]);
		await anaTab.next('friends');
		await bobTab.next('requests', (f) => f.incoming === 0);
		expect(usernames((await anas.friends()).body.friends)).toEqual([bob.username]);
		expect(usernames((await bobs.friends()).body.friends)).toEqual([ana.username]);
		bobTab.close();
		anaTab.close();
	});

	it('accepts instead when the other person had asked first', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		expect((await (await as(bob)).request({ username: ana.username })).status).toBe(201);
		const crossed = await (await as(ana)).request({ username: bob.username });
		expect([crossed.status, crossed.body]).toEqual([201, { result: 'accepted' }]);
		expect(usernames((await (await as(bob)).friends()).body.friends)).toEqual([ana.username]);
	});

	it('declines, cancels and unfriends, for both sides', async () => {
		const [ana, bob, cat, dan] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat'),
			await seedPerson('dan')
		];
		const anas = await as(ana);
		await (await as(bob)).request({ username: ana.username });
		await anas.request({ username: cat.username });
		await befriend(ana, dan);
		const danTab = await connectHub(dan);

		expect((await anas.decline(bob.username)).status).toBe(204);
		expect((await anas.cancel(cat.username)).status).toBe(204);
		expect((await anas.unfriend(dan.username)).status).toBe(204);
		await danTab.next('friends');
		expect((await anas.friends()).body).toEqual({ friends: [], incoming: [], outgoing: [] });
		expect((await (await as(bob)).friends()).body.outgoing).toEqual([]);
		expect((await (await as(dan)).friends()).body.friends).toEqual([]);
		danTab.close();
	});

	it('refuses myself, a missing person, friends, a second request and requests that are not there', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await befriend(ana, bob);
		const anas = await as(ana);
		expect((await anas.request({ username: cat.username })).status).toBe(201);
		const before = await stateOf(ana, bob, cat);

		refusal(await anas.request({ username: ana.username }), 400, 'self');
		refusal(await anas.request({ username: 'nobody_here' }), 404, 'not_found');
		refusal(await anas.request({ username: bob.username }), 409, 'already_friends');
		refusal(await anas.request({ username: cat.username }), 409, 'already_requested');
		// Only the recipient answers a request, only its sender cancels it.
		refusal(await anas.accept(cat.username), 404, 'no_request');
		refusal(await anas.decline(cat.username), 404, 'no_request');
		refusal(await (await as(cat)).cancel(ana.username), 404, 'no_request');
		refusal(await anas.accept(bob.username), 404, 'no_request');
		refusal(await anas.cancel('nobody_here'), 404, 'not_found');
		refusal(await anas.unfriend(cat.username), 404, 'not_friends');
		refusal(await anas.unfriend('nobody_here'), 404, 'not_found');
		expect(await stateOf(ana, bob, cat)).toEqual(before);
	});
});

describe('blocks', () => {
	it('blocks, lists and unblocks, ending the friendship and telling the other person’s tabs', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		await befriend(ana, bob);
		const anas = await as(ana);
		const bobTab = await connectHub(bob);

		const blocked = await anas.block(bob.username);
		expect([blocked.status, blocked.body]).toEqual([204, null]);
		await bobTab.next('friends');
		const list = await anas.blocked();
		expect(list.status).toBe(200);
		expect(v.is(BlockedAnswer, list.body)).toBe(true);
		expect(usernames(list.body.blocked)).toEqual([bob.username]);
		expect((await anas.friends()).body.friends).toEqual([]);

		expect((await anas.unblock(bob.username)).status).toBe(204);
		expect((await anas.blocked()).body.blocked).toEqual([]);
		// What the block ended stays ended.
		expect((await anas.friends()).body.friends).toEqual([]);
		bobTab.close();
	});

	it('refuses blocking myself, twice or nobody, and unblocking someone not blocked', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await block(ana, bob);
		const anas = await as(ana);
		const before = await stateOf(ana, bob, cat);
		refusal(await anas.block(ana.username), 400, 'self');
		refusal(await anas.block(bob.username), 409, 'already_blocked');
		refusal(await anas.block('nobody_here'), 404, 'not_found');
		refusal(await anas.unblock(cat.username), 404, 'not_blocked');
		refusal(await anas.unblock('nobody_here'), 404, 'not_found');
		expect(await stateOf(ana, bob, cat)).toEqual(before);
	});

	it('refuses friend requests and conversations across a block, whoever blocked', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await takesMessagesFromEveryone(bob);
		await takesMessagesFromEveryone(cat);
		await block(ana, bob);
		await block(cat, ana);
		const anas = await as(ana);
		const before = await stateOf(ana, bob, cat);
		for (const other of [bob, cat]) {
			refusal(await anas.request({ username: other.username }), 403, 'blocked');
			refusal(await anas.direct({ username: other.username }), 403, 'blocked');
		}
		refusal(await (await as(bob)).request({ username: ana.username }), 403, 'blocked');
		refusal(await (await as(cat)).direct({ username: ana.username }), 403, 'blocked');
		expect(await stateOf(ana, bob, cat)).toEqual(before);
	});
});

describe('direct conversations', () => {
	it('opens a conversation with a friend once, and finds it again after', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		await befriend(ana, bob);
		const opened = await (await as(ana)).direct({ username: bob.username });
		expect(opened.status).toBe(201);
		expect(v.is(DirectAnswer, opened.body)).toBe(true);
		expect(v.is(RoomSummary, opened.body.room)).toBe(true);
		expect(opened.body.room).toMatchObject({
			kind: 'direct',
			name: 'Bob',
			peer: { id: bob.id, username: bob.username, displayName: 'Bob' },
			unread: 0
		});
		const roomId = opened.body.room.id;

		const again = await (await as(ana)).direct({ username: bob.username });
		expect([again.status, again.body.room.id]).toEqual([200, roomId]);
		const theirs = await (await as(bob)).direct({ username: ana.username });
		expect([theirs.status, theirs.body.room.id, theirs.body.room.name]).toEqual([
			200,
			roomId,
			'Ana'
		]);
		expect((await (await as(ana)).profile(bob.username)).body.person.directRoomId).toBe(roomId);
	});

	it('follows the person’s DM setting: friends only refuses a stranger, everyone lets them in', async () => {
		const [ana, bob, cat] = [
			await seedPerson('ana'),
			await seedPerson('bob'),
			await seedPerson('cat')
		];
		await takesMessagesFromEveryone(cat);
		const anas = await as(ana);
		const before = await stateOf(ana, bob);
		refusal(await anas.direct({ username: bob.username }), 403, 'dm_not_allowed');
		expect(await stateOf(ana, bob)).toEqual(before);
		const opened = await anas.direct({ username: cat.username });
		expect([opened.status, opened.body.room.peer.id]).toEqual([201, cat.id]);
	});

	it('refuses a conversation with myself or with nobody', async () => {
		const ana = await seedPerson('ana');
		const anas = await as(ana);
		const before = await stateOf(ana);
		refusal(await anas.direct({ username: ana.username }), 400, 'self');
		refusal(await anas.direct({ username: 'nobody_here' }), 404, 'not_found');
		expect(await stateOf(ana)).toEqual(before);
	});

	it('works with the web app’s session too', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		await befriend(ana, bob);
		const opened = await api(await sessionFor(ana)).direct({ username: bob.username });
		expect(opened.status).toBe(201);
	});
});

/** A person with one of everything these writes could act on, each write able to succeed. */
async function everythingToChange() {
	const [ana, asker, asked, friend, blocked, stranger] = [
		await seedPerson('ana'),
		await seedPerson('asker'),
		await seedPerson('asked'),
		await seedPerson('friend'),
		await seedPerson('blocked'),
		await seedPerson('stranger')
	];
	await takesMessagesFromEveryone(stranger);
	await (await as(asker)).request({ username: ana.username });
	await (await as(ana)).request({ username: asked.username });
	await befriend(ana, friend);
	await block(ana, blocked);
	const people = [ana, asker, asked, friend, blocked, stranger];
	const writes = (client: ReturnType<typeof api>) => [
		client.request({ username: stranger.username }),
		client.accept(asker.username),
		client.decline(asker.username),
		client.cancel(asked.username),
		client.unfriend(friend.username),
		client.block(stranger.username),
		client.unblock(blocked.username),
		client.direct({ username: friend.username })
	];
	const reads = (client: ReturnType<typeof api>) => [
		client.search(`?q=${stranger.username}`),
		client.profile(stranger.username),
		client.friends(),
		client.blocked()
	];
	return { ana, people, writes, reads };
}

describe('tokens', () => {
	it('refuses every change to a read-only token, changing nothing, and lets it read', async () => {
		const { ana, people, writes, reads } = await everythingToChange();
		const before = await stateOf(...people);
		const client = await as(ana, 'read');
		for (const answer of await Promise.all(writes(client))) {
			refusal(answer, 403, 'insufficient_scope');
		}
		expect(await stateOf(...people)).toEqual(before);
		for (const answer of await Promise.all(reads(client))) expect(answer.status).toBe(200);
	});

	it('refuses every one of these routes to a token limited to some rooms', async () => {
		const { ana, people, writes, reads } = await everythingToChange();
		const roomId = await seedRoom(ana);
		const before = await stateOf(...people);
		const client = api(await tokenFor(ana, { scope: 'write', rooms: [roomId] }));
		const answers = await Promise.all([...reads(client), ...writes(client)]);
		expect(answers).toHaveLength(12);
		for (const answer of answers) refusal(answer, 403, 'token_rooms');
		expect(await stateOf(...people)).toEqual(before);
	});
});

describe('bad input', () => {
	it('answers 400 bad_input with details, and changes nothing', async () => {
		const [ana, bob] = [await seedPerson('ana'), await seedPerson('bob')];
		await takesMessagesFromEveryone(bob);
		const anas = await as(ana);
		const before = await stateOf(ana, bob);
		const long = 'x'.repeat(33);
		const cases: [string, Promise<Answer>, string][] = [
			['no q', anas.search(''), 'q'],
			['empty q', anas.search('?q=%20%20'), 'q'],
			['long q', anas.search(`?q=${'a'.repeat(65)}`), 'q'],
			['no username', anas.request({}), 'username'],
			['a number', anas.request({ username: 42 }), 'username'],
			['too long', anas.request({ username: long }), 'username'],
			['too short', anas.direct({ username: 'ab' }), 'username'],
			['bad characters', anas.direct({ username: 'bob/../x' }), 'username'],
			['no body fields', anas.direct({}), 'username'],
			['long path', anas.profile(long), 'username'],
			['bad path', anas.block('a b!'), 'username'],
			['long path write', anas.unfriend(long), 'username'],
			['empty path', anas.accept(''), 'username']
		];
		for (const [what, pending, path] of cases) {
			const answer = await pending;
			expect(answer.status, what).toBe(400);
			expect(answer.body.error.code, what).toBe('bad_input');
			expect(answer.body.error.details, what).toContainEqual(expect.objectContaining({ path }));
		}
		const notJson = await (
			await tokenFor(ana)
		).call(requestsRoute.POST, { path: '/api/v1/friend-requests', json: '{"username": ' });
		refusal(notJson, 400, 'bad_json');
		expect(await stateOf(ana, bob)).toEqual(before);
	});
});
