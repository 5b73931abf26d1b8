import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { users } from '$shared/db/schema';
import { getProfile, searchPeople } from '$lib/server/people/people';
import { db } from '../../../helpers';
import { befriend, block, seedPerson } from '../../../support/people';

/** Users with chosen usernames and display names, unique per test run. */
async function named(username: string, displayName: string) {
	const person = await seedPerson(username);
	const tag = person.id.slice(-6);
	const name = `${username}${tag}`;
	await db()
		.update(users)
		.set({ username: name, usernameKey: name.toLowerCase(), displayName: `${displayName}${tag}` })
		.where(eq(users.id, person.id));
	return { ...person, username: name, tag };
}

describe('finding people', () => {
	it('matches a prefix of the username or the display name, ignoring case', async () => {
		const me = await seedPerson('me');
		const sam = await named('Samwise', 'Gardener');
		const byUsername = await searchPeople(db(), me.id, 'samw');
		expect(byUsername.map((p) => p.id)).toContain(sam.id);
		const byDisplayName = await searchPeople(db(), me.id, `gardener${sam.tag}`.toUpperCase());
		expect(byDisplayName.map((p) => p.id)).toEqual([sam.id]);
		const byAt = await searchPeople(db(), me.id, `@${sam.username}`);
		expect(byAt.map((p) => p.id)).toEqual([sam.id]);
		expect(await searchPeople(db(), me.id, 'wise')).not.toContainEqual(
			expect.objectContaining({ id: sam.id })
		);
	});

	it('ranks an exact match first, then friends, then everyone else', async () => {
		const me = await seedPerson('me');
		const prefix = `rk${Date.now().toString(36)}`;
		const stranger = await named(`${prefix}a`, 'Stranger');
		const friend = await named(`${prefix}b`, 'Friend');
		const exact = await seedPerson('exact');
		await db()
			.update(users)
			.set({ username: prefix, usernameKey: prefix, displayName: 'Exact' })
			.where(eq(users.id, exact.id));
		await befriend(me, friend);

		const results = await searchPeople(db(), me.id, prefix);
		expect(results.map((p) => p.id)).toEqual([exact.id, friend.id, stranger.id]);
		expect(results.map((p) => p.relation)).toEqual(['none', 'friends', 'none']);
	});

	it('treats % and _ as plain characters', async () => {
		const me = await seedPerson('me');
		await named('under_score', 'Someone');
		expect(await searchPeople(db(), me.id, '%')).toEqual([]);
	});

	it("blocked users don't appear to each other, in search or on profiles", async () => {
		const alice = await named('alicia', 'Alicia');
		const bob = await named('bobby', 'Bobby');
		await block(alice, bob);

		expect((await searchPeople(db(), bob.id, alice.username)).map((p) => p.id)).toEqual([]);
		expect((await searchPeople(db(), alice.id, bob.username)).map((p) => p.id)).toEqual([]);
		expect(await getProfile(db(), bob.id, alice.username)).toBeNull();
		// The blocker still reaches the profile, where Unblock is.
		expect(await getProfile(db(), alice.id, bob.username)).toMatchObject({
			id: bob.id,
			blockedByMe: true,
			mayMessage: false
		});
	});

	it('a profile shows the relation and the mutual friends', async () => {
		const alice = await named('alison', 'Alison');
		const bob = await named('bobert', 'Bobert');
		const carol = await seedPerson('carol');
		await befriend(alice, carol);
		await befriend(bob, carol);
		const profile = await getProfile(db(), alice.id, bob.username.toUpperCase());
		expect(profile).toMatchObject({
			username: bob.username,
			relation: 'none',
			mayMessage: false,
			mutualFriends: [expect.objectContaining({ id: carol.id })]
		});
		expect(await getProfile(db(), alice.id, 'nobody_by_this_name')).toBeNull();
	});
});
