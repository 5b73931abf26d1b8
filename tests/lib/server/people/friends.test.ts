import { describe, expect, it } from 'vitest';
import { blockUser, listBlocked, unblockUser } from '$lib/server/people/blocks';
import {
	acceptFriendRequest,
	cancelFriendRequest,
	declineFriendRequest,
	listFriends,
	listMutualFriends,
	removeFriend,
	sendFriendRequest
} from '$lib/server/people/friends';
import { friendships } from '$shared/db/schema';
import { countIncomingRequests } from '$shared/db/friends';
import { db, type Person } from '../../../helpers';
import { befriend, connectHub, rt, seedPerson } from '../../../support/people';

const ids = (people: { id: string }[]) => people.map((p) => p.id);

async function relationOf(a: Person, b: Person) {
	const lists = await listFriends(db(), a.id);
	if (ids(lists.friends).includes(b.id)) return 'friends';
	if (ids(lists.outgoing).includes(b.id)) return 'outgoing';
	if (ids(lists.incoming).includes(b.id)) return 'incoming';
	return 'none';
}

async function friendshipRows() {
	return (await db().select().from(friendships)).length;
}

describe('friend graph', () => {
	it('a request is outgoing for the sender, incoming for the recipient, and friends once accepted', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');

		expect(await sendFriendRequest(db(), rt(), alice.id, bob.id)).toEqual({
			ok: true,
			result: 'requested'
		});
		expect(await relationOf(alice, bob)).toBe('outgoing');
		expect(await relationOf(bob, alice)).toBe('incoming');
		expect(await countIncomingRequests(db(), bob.id)).toBe(1);
		expect(await countIncomingRequests(db(), alice.id)).toBe(0);

		expect(await acceptFriendRequest(db(), rt(), bob.id, alice.id)).toMatchObject({ ok: true });
		expect(await relationOf(alice, bob)).toBe('friends');
		expect(await relationOf(bob, alice)).toBe('friends');
		expect(await countIncomingRequests(db(), bob.id)).toBe(0);

		expect(await removeFriend(db(), rt(), alice.id, bob.id)).toMatchObject({ ok: true });
		expect(await relationOf(alice, bob)).toBe('none');
		expect(await relationOf(bob, alice)).toBe('none');
	});

	it('the sender can cancel and the recipient can decline, leaving no trace', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await sendFriendRequest(db(), rt(), alice.id, bob.id);
		expect(await cancelFriendRequest(db(), rt(), alice.id, bob.id)).toMatchObject({ ok: true });
		expect(await relationOf(bob, alice)).toBe('none');

		await sendFriendRequest(db(), rt(), alice.id, bob.id);
		expect(await declineFriendRequest(db(), rt(), bob.id, alice.id)).toMatchObject({ ok: true });
		expect(await relationOf(alice, bob)).toBe('none');
	});

	it('only the recipient accepts or declines, only the sender cancels', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await sendFriendRequest(db(), rt(), alice.id, bob.id);

		expect(await acceptFriendRequest(db(), rt(), alice.id, bob.id)).toMatchObject({
			ok: false,
			status: 404,
			code: 'no_request'
		});
		expect(await declineFriendRequest(db(), rt(), alice.id, bob.id)).toMatchObject({
			code: 'no_request'
		});
		expect(await cancelFriendRequest(db(), rt(), bob.id, alice.id)).toMatchObject({
			code: 'no_request'
		});
		expect(await relationOf(alice, bob)).toBe('outgoing');
	});

	it('refuses a request to yourself, a duplicate request and a request between friends, changing nothing', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		await befriend(alice, carol);
		const before = await friendshipRows();

		expect(await sendFriendRequest(db(), rt(), alice.id, alice.id)).toMatchObject({
			ok: false,
			status: 400,
			code: 'self'
		});
		expect(await friendshipRows()).toBe(before);

		await sendFriendRequest(db(), rt(), alice.id, bob.id);
		expect(await sendFriendRequest(db(), rt(), alice.id, bob.id)).toMatchObject({
			ok: false,
			status: 409,
			code: 'already_requested'
		});
		expect(await sendFriendRequest(db(), rt(), alice.id, carol.id)).toMatchObject({
			ok: false,
			status: 409,
			code: 'already_friends'
		});
		expect(await friendshipRows()).toBe(before + 1);
		expect(await relationOf(alice, bob)).toBe('outgoing');
	});

	it('refuses a request to someone who does not exist', async () => {
		const alice = await seedPerson('alice');
		expect(await sendFriendRequest(db(), rt(), alice.id, 'nobody')).toMatchObject({
			ok: false,
			status: 404
		});
	});

	it('two people asking each other become friends', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await sendFriendRequest(db(), rt(), alice.id, bob.id);
		expect(await sendFriendRequest(db(), rt(), bob.id, alice.id)).toMatchObject({
			ok: true,
			result: 'accepted'
		});
		expect(await relationOf(alice, bob)).toBe('friends');
	});

	it('unfriending someone who is not a friend is an error', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		expect(await removeFriend(db(), rt(), alice.id, bob.id)).toMatchObject({
			ok: false,
			code: 'not_friends'
		});
	});

	it('blocking ends the friendship, and the blocked person can no longer send requests', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);

		expect(await blockUser(db(), rt(), alice.id, bob.id)).toEqual({ ok: true });
		expect(await relationOf(alice, bob)).toBe('none');
		expect(ids(await listBlocked(db(), alice.id))).toEqual([bob.id]);

		expect(await sendFriendRequest(db(), rt(), bob.id, alice.id)).toMatchObject({
			ok: false,
			status: 403,
			code: 'blocked'
		});
		expect(await sendFriendRequest(db(), rt(), alice.id, bob.id)).toMatchObject({
			ok: false,
			code: 'blocked'
		});
		expect(await blockUser(db(), rt(), alice.id, bob.id)).toMatchObject({
			ok: false,
			code: 'already_blocked'
		});
		expect(await blockUser(db(), rt(), alice.id, alice.id)).toMatchObject({ code: 'self' });

		expect(await unblockUser(db(), rt(), alice.id, bob.id)).toEqual({ ok: true });
		expect(await unblockUser(db(), rt(), alice.id, bob.id)).toMatchObject({
			code: 'not_blocked'
		});
		expect(await sendFriendRequest(db(), rt(), bob.id, alice.id)).toMatchObject({ ok: true });
	});

	it('blocking also removes a pending request, in either direction', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await sendFriendRequest(db(), rt(), bob.id, alice.id);
		await blockUser(db(), rt(), alice.id, bob.id);
		expect(await countIncomingRequests(db(), alice.id)).toBe(0);
		expect(await relationOf(bob, alice)).toBe('none');
	});

	it('lists friends, incoming and outgoing requests in one answer', async () => {
		const alice = await seedPerson('alice');
		const [bob, carol, dave] = await Promise.all(['bob', 'carol', 'dave'].map(seedPerson));
		await befriend(alice, bob!);
		await sendFriendRequest(db(), rt(), carol!.id, alice.id);
		await sendFriendRequest(db(), rt(), alice.id, dave!.id);

		const lists = await listFriends(db(), alice.id);
		expect(ids(lists.friends)).toEqual([bob!.id]);
		expect(ids(lists.incoming)).toEqual([carol!.id]);
		expect(ids(lists.outgoing)).toEqual([dave!.id]);
	});

	it('mutual friends are the people both are friends with', async () => {
		const [alice, bob, carol, dave, erin] = await Promise.all(
			['alice', 'bob', 'carol', 'dave', 'erin'].map(seedPerson)
		);
		await befriend(alice!, carol!);
		await befriend(bob!, carol!);
		await befriend(alice!, dave!);
		await befriend(erin!, bob!);
		expect(ids(await listMutualFriends(db(), alice!.id, bob!.id))).toEqual([carol!.id]);
	});

	it("the recipient's open tab sees the request badge change as requests arrive and are answered", async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const bobTab = await connectHub(bob);
		expect(bobTab.of('welcome')[0]?.incomingRequests).toBe(0);

		await sendFriendRequest(db(), rt(), alice.id, bob.id);
		await bobTab.next('requests', (f) => f.incoming === 1);
		await cancelFriendRequest(db(), rt(), alice.id, bob.id);
		await bobTab.next('requests', (f) => f.incoming === 0);
		bobTab.close();
	});
});
