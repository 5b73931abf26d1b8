// The profile page's form actions, called as SvelteKit calls them: bad input is refused clearly.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { isActionFailure, isRedirect } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { users } from '$shared/db/schema';
import * as profilePage from '../../src/routes/u/[username]/+page.server';
import { db } from '../helpers';
import { seedPerson } from '../support/people';

type Person = Awaited<ReturnType<typeof seedPerson>>;

async function post(
	actor: Person,
	username: string,
	action: string,
	form: Record<string, string> = {}
) {
	const body = new FormData();
	for (const [k, v] of Object.entries(form)) body.set(k, v);
	const url = new URL(`https://parley.test/u/${username}`);
	const event = {
		locals: {
			user: {
				id: actor.id,
				username: actor.username,
				displayName: actor.displayName,
				email: '',
				emailVerified: true
			},
			session: {
				id: `s-${actor.id}`,
				userId: actor.id,
				createdAt: Date.now(),
				expiresAt: Date.now() + 60_000,
				providerAuthAt: null
			}
		},
		params: { username },
		platform: { env },
		url,
		request: new Request(url, { method: 'POST', body })
	};
	const handler = profilePage.actions[action] as (e: never) => Promise<unknown>;
	try {
		const result = await handler(event as never);
		return isActionFailure(result) ? { status: result.status, data: result.data } : { status: 200 };
	} catch (thrown) {
		if (isRedirect(thrown)) return { status: thrown.status, location: thrown.location };
		throw thrown;
	}
}

describe('profile actions', () => {
	it('a friend request to yourself is refused with a clear message', async () => {
		const alice = await seedPerson('alice');
		expect(await post(alice, alice.username, 'request')).toEqual({
			status: 400,
			data: { code: 'self', message: "You can't befriend yourself." }
		});
	});

	it('a duplicate request is refused; the first one stands', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		expect(await post(alice, bob.username, 'request')).toMatchObject({ status: 303 });
		expect(await post(alice, bob.username, 'request')).toMatchObject({
			status: 409,
			data: { code: 'already_requested' }
		});
		expect(await post(bob, alice.username, 'accept')).toMatchObject({ status: 303 });
	});

	it('an unknown person is a 404', async () => {
		const alice = await seedPerson('alice');
		expect(await post(alice, 'nobody_here', 'request')).toMatchObject({ status: 404 });
	});

	it('"Message" needs friendship or an open DM setting, and opens the one conversation', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		expect(await post(alice, bob.username, 'message')).toMatchObject({
			status: 403,
			data: { code: 'dm_not_allowed' }
		});
		expect(await post(bob, bob.username, 'dmPolicy', { dmPolicy: 'everyone' })).toMatchObject({
			status: 303
		});
		const first = await post(alice, bob.username, 'message');
		const second = await post(bob, alice.username, 'message');
		expect(first).toMatchObject({ status: 303, location: expect.stringMatching(/^\/rooms\//) });
		// Alice's own setting is still "friends", but the conversation exists: Bob reopens it.
		expect(second).toEqual(first);
	});

	it('a DM setting other than friends or everyone is refused and nothing changes', async () => {
		const alice = await seedPerson('alice');
		expect(await post(alice, alice.username, 'dmPolicy', { dmPolicy: 'strangers' })).toMatchObject({
			status: 400
		});
		const [row] = await db().select().from(users).where(eq(users.id, alice.id));
		expect(row?.dmPolicy).toBe('friends');
	});
});
