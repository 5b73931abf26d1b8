import { describe, expect, it, vi } from 'vitest';
import { and, eq, or } from 'drizzle-orm';
import { CloseCode } from '$shared/protocol';
import {
	blocks,
	friendships,
	knownDevices,
	memberships,
	oauthAccounts,
	rooms,
	sessions,
	userTokens
} from '$shared/db/schema';
import { issueEmailToken } from '$lib/server/auth/email-tokens';
import { readHistory } from '$lib/server/rooms/history';
import { grantMembership } from '$lib/server/rooms/rooms';
import { findUserByLogin } from '$lib/server/accounts/users';
import { actions as accountActions } from '../../../../src/routes/settings/account/+page.server';
import { actions as registerActions } from '../../../../src/routes/register/+page.server';
import { actions as finishActions } from '../../../../src/routes/register/finish/+page.server';
import { connect, roomStub, seedRoom } from '../../../helpers';
import {
	PASSWORD,
	db,
	lastMailTo,
	registerPerson,
	signedInBrowser,
	tokenIn,
	userRow
} from '../../../support/accounts';
import { TestBrowser } from '../../../support/request-event';

vi.setConfig({ testTimeout: 60_000 });

/** Alice with everything an account accumulates: a room with Bob, a message, friends, links. */
async function aliceWithAHistory() {
	const alice = await registerPerson('alice', { verified: true });
	const bob = await registerPerson('bob');
	const person = (p: typeof alice) => ({ id: p.id, name: p.displayName, username: p.username });
	const roomId = await seedRoom(person(alice), person(bob));
	const now = Date.now();
	const [low, high] = [alice.id, bob.id].sort();
	await db().insert(friendships).values({
		userLow: low!,
		userHigh: high!,
		status: 'accepted',
		requestedBy: alice.id,
		createdAt: now
	});
	await db().insert(blocks).values({ blockerId: bob.id, blockedId: alice.id, createdAt: now });
	await db()
		.insert(oauthAccounts)
		.values({
			provider: 'github',
			providerUserId: `gh-${alice.id}`,
			userId: alice.id,
			createdAt: now
		});
	await db()
		.insert(knownDevices)
		.values({ tokenHash: `laptop-${alice.id}`, userId: alice.id, createdAt: now, lastUsedAt: now });
	await issueEmailToken(db(), { userId: alice.id, purpose: 'reset_password', email: alice.email });
	const browser = await signedInBrowser(alice);
	await signedInBrowser(alice);
	// Through the room, as the app sends it: the room numbers it and later copies it to D1.
	const socket = await connect(roomId, person(alice), 0);
	socket.send({ type: 'send', clientId: 'hello-1', body: 'Hi Bob!' });
	await socket.next('ack');
	return { alice, bob, roomId, browser, socket };
}

const deleteWith = (browser: TestBrowser, confirm: string) =>
	browser.call(accountActions.delete!, { path: '/settings/account?/delete', form: { confirm } });

describe('deleting an account', () => {
	it('needs the password, and a wrong one changes nothing', async () => {
		const { alice, browser, socket } = await aliceWithAHistory();
		expect(await deleteWith(browser, 'not my password')).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { confirm: 'That is not your password.' } }
		});
		expect((await userRow(alice.id)).deletedAt).toBeNull();
		expect(await db().select().from(sessions).where(eq(sessions.userId, alice.id))).toHaveLength(2);
		socket.close();
	});

	it('erases personal data and every way in, and ends open sessions and sockets', async () => {
		const { alice, bob, roomId, browser, socket } = await aliceWithAHistory();
		const outcome = await deleteWith(browser, PASSWORD);
		expect(outcome).toEqual({
			kind: 'redirect',
			status: 303,
			location: '/login?notice=account-deleted'
		});
		expect(browser.jar.get('parley_session')).toBeUndefined();

		const row = await userRow(alice.id);
		expect(row.deletedAt).not.toBeNull();
		expect(row).toMatchObject({
			displayName: 'Deleted user',
			passwordHash: null,
			bio: '',
			statusText: '',
			avatarKey: null,
			emailVerifiedAt: null
		});
		expect(JSON.stringify(row)).not.toContain(alice.email);
		expect(JSON.stringify(row)).not.toContain(alice.username);

		for (const [table, column] of [
			[sessions, sessions.userId],
			[userTokens, userTokens.userId],
			[oauthAccounts, oauthAccounts.userId],
			[knownDevices, knownDevices.userId],
			[memberships, memberships.userId]
		] as const) {
			expect(await db().select().from(table).where(eq(column, alice.id))).toEqual([]);
		}
		expect(
			await db()
				.select()
				.from(friendships)
				.where(or(eq(friendships.userLow, alice.id), eq(friendships.userHigh, alice.id)))
		).toEqual([]);
		expect(await db().select().from(blocks).where(eq(blocks.blockedId, alice.id))).toEqual([]);

		// Bob stays in the room, which now counts one member.
		expect(await db().select().from(memberships).where(eq(memberships.roomId, roomId))).toEqual([
			expect.objectContaining({ userId: bob.id })
		]);
		const [room] = await db().select().from(rooms).where(eq(rooms.id, roomId));
		expect(room!.memberCount).toBe(1);

		await socket.until(() => socket.closed);
		expect(socket.closed).toEqual({ code: CloseCode.Removed });
	});

	it('keeps messages in their rooms, attributed to "Deleted user"', async () => {
		const { roomId, browser, socket } = await aliceWithAHistory();
		await deleteWith(browser, PASSWORD);
		const history = await readHistory(db(), roomStub(roomId), roomId, {});
		expect(history.messages[0]).toMatchObject({
			seq: 1,
			body: 'Hi Bob!',
			senderName: 'Deleted user'
		});
		socket.close();
	});

	it('hands each room the person owned to its longest-standing admin, or else member', async () => {
		const { alice, bob, roomId, browser, socket } = await aliceWithAHistory();
		const carol = await registerPerson('carol');
		const dave = await registerPerson('dave');
		const person = (p: typeof alice) => ({ id: p.id, name: p.displayName, username: p.username });
		// Bob joined the first room before Carol, but Carol is an admin there.
		await grantMembership(db(), roomId, carol.id);
		await db()
			.update(memberships)
			.set({ role: 'admin' })
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, carol.id)));
		const onlyMembers = await seedRoom(person(alice), person(dave));
		const watching = await connect(roomId, person(bob), 1);

		await deleteWith(browser, PASSWORD);

		const roles = async (room: string) =>
			Object.fromEntries(
				(await db().select().from(memberships).where(eq(memberships.roomId, room))).map((m) => [
					m.userId,
					m.role
				])
			);
		expect(await roles(roomId)).toEqual({ [bob.id]: 'member', [carol.id]: 'owner' });
		expect(await roles(onlyMembers)).toEqual({ [dave.id]: 'owner' });
		const line = await watching.next('message', (m) => m.message.kind === 'system');
		expect(line.message.body).toBe('Carol is now the owner');
		watching.close();
		socket.close();
	});

	it('frees the email address and username: no one can log in as the deleted account', async () => {
		const { alice, browser, socket } = await aliceWithAHistory();
		await deleteWith(browser, PASSWORD);
		expect(await findUserByLogin(db(), alice.email)).toBeNull();
		expect(await findUserByLogin(db(), alice.username)).toBeNull();
		const again = await new TestBrowser().call(registerActions.default!, {
			path: '/register',
			form: {
				email: alice.email,
				username: alice.username,
				displayName: 'Alice again',
				password: 'alice starts over with a new passphrase'
			}
		});
		expect(again).toMatchObject({ kind: 'data', data: { sentTo: alice.email } });
		const finished = await new TestBrowser().call(finishActions.finish!, {
			path: '/register/finish?/finish',
			form: { token: tokenIn((await lastMailTo(alice.email))!.bodyText) }
		});
		expect(finished).toMatchObject({ kind: 'redirect', location: '/' });
		expect(await findUserByLogin(db(), alice.username)).toMatchObject({ email: alice.email });
		socket.close();
	});

	it('asks an account without a password to type its username instead', async () => {
		const carol = await registerPerson('carol', { verified: true, password: false });
		const browser = await signedInBrowser(carol);
		expect(await deleteWith(browser, 'whatever')).toMatchObject({
			kind: 'failure',
			data: { errors: { confirm: 'Type your username exactly to confirm.' } }
		});
		expect(await deleteWith(browser, carol.username.toUpperCase())).toMatchObject({
			kind: 'redirect'
		});
		expect((await userRow(carol.id)).deletedAt).not.toBeNull();
	});
});
