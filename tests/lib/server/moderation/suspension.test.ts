// Suspension: a site admin's suspension ends everything the person has open at once (sessions,
// their tabs' room and hub sockets, their tokens' sockets), refuses every way back in with the
// reason, and is recorded in the audit log; unsuspending lets them back in, tokens and all.
import { describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { apiTokens, auditLog, sessions, users } from '$shared/db/schema';
import { CloseCode } from '$shared/protocol';
import { openRoomSocket, openUserSocket } from '$lib/server/realtime/door';
import {
	SESSION_COOKIE,
	createSession,
	generateSessionToken,
	validateSessionToken
} from '$lib/server/auth/session';
import { authenticateToken, createToken } from '$lib/server/api/tokens';
import { suspendUser, unsuspendUser } from '$lib/server/moderation/suspension';
import { actions as loginActions } from '../../../../src/routes/login/+page.server';
import { TestSocket, seedRoom } from '../../../helpers';
import { PASSWORD, db, registerPerson, signedInBrowser, userRow } from '../../../support/accounts';
import { HubSocket, rt } from '../../../support/people';
import { TestBrowser } from '../../../support/request-event';

vi.setConfig({ testTimeout: 30_000 });

const person = (p: { id: string; displayName: string; username: string }) => ({
	id: p.id,
	name: p.displayName,
	username: p.username
});

/** One browser's open tab in a room: its room socket and its hub socket, through the door. */
async function openTab(browser: TestBrowser, roomId: string) {
	const token = browser.jar.get(SESSION_COOKIE)!;
	const roomResponse = await openRoomSocket(
		new Request(`https://parley.test/ws/room/${roomId}`, { headers: { Upgrade: 'websocket' } }),
		{ db: db(), rooms: env.ROOMS },
		token
	);
	const hubResponse = await openUserSocket(
		new Request('https://parley.test/ws/me', { headers: { Upgrade: 'websocket' } }),
		{ db: db(), hubs: env.HUBS },
		token
	);
	if (!roomResponse.webSocket || !hubResponse.webSocket) throw new Error('upgrade refused');
	roomResponse.webSocket.accept();
	hubResponse.webSocket.accept();
	const room = new TestSocket(roomResponse.webSocket);
	const hub = new HubSocket(hubResponse.webSocket);
	room.send({ type: 'hello', lastSeq: 0 });
	await room.next('backlog');
	await hub.next('welcome');
	return { room, hub };
}

function logIn(login: string, password = PASSWORD) {
	return new TestBrowser().call(loginActions.default!, {
		path: '/login',
		form: { login, password }
	});
}

/** Sam administers the site; Eve is in a room with Bob, her tab open. */
async function world() {
	const sam = await registerPerson('sam');
	const eve = await registerPerson('eve');
	const bob = await registerPerson('bob');
	const roomId = await seedRoom(person(eve), person(bob));
	const eveBrowser = await signedInBrowser(eve);
	const bobBrowser = await signedInBrowser(bob);
	const config = { SITE_ADMINS: ` ${sam.username.toUpperCase()} , someone@example.test` };
	return {
		sam,
		eve,
		bob,
		roomId,
		config,
		eveBrowser,
		eveTab: await openTab(eveBrowser, roomId),
		bobTab: await openTab(bobBrowser, roomId)
	};
}

describe('suspending someone', () => {
	it('ends their sessions and open sockets at once, and records who, why and when', async () => {
		const { sam, eve, roomId, config, eveBrowser, eveTab, bobTab } = await world();
		const before = Date.now();
		expect(await suspendUser(db(), rt(), sam, eve.id, '  Spam in every room ', config)).toEqual({
			ok: true
		});

		await eveTab.room.until(() => eveTab.room.closed);
		expect(eveTab.room.closed?.code).toBe(CloseCode.SignedOut);
		await vi.waitFor(() => expect(eveTab.hub.closeCode).toBe(CloseCode.SignedOut));
		// Bob stays.
		bobTab.room.send({ type: 'send', clientId: 'still', body: 'still here' });
		await bobTab.room.next('ack', (f) => f.clientId === 'still');

		const row = await userRow(eve.id);
		expect(row.suspendedAt).toBeGreaterThanOrEqual(before);
		expect(row.suspendedReason).toBe('Spam in every room');
		expect(row.suspendedBy).toBe(sam.id);
		expect(await db().select().from(sessions).where(eq(sessions.userId, eve.id))).toEqual([]);
		const entries = await db().select().from(auditLog).where(eq(auditLog.targetId, eve.id));
		expect(entries).toEqual([
			expect.objectContaining({
				actorId: sam.id,
				actorRole: 'site_admin',
				action: 'user.suspend',
				targetKind: 'user',
				reason: 'Spam in every room'
			})
		]);

		// The old cookie opens nothing any more.
		const again = await openRoomSocket(
			new Request(`https://parley.test/ws/room/${roomId}`, { headers: { Upgrade: 'websocket' } }),
			{ db: db(), rooms: env.ROOMS },
			eveBrowser.jar.get(SESSION_COOKIE)!
		);
		expect(again.status).toBe(401);
		bobTab.room.close();
		bobTab.hub.close();
	});

	it('refuses their password sign-in with the reason, and lets them in again once unsuspended', async () => {
		const { sam, eve, config, eveTab, bobTab } = await world();
		await suspendUser(db(), rt(), sam, eve.id, 'Harassing Bob', config);
		expect(await logIn(eve.username)).toMatchObject({
			kind: 'failure',
			status: 400,
			data: {
				errors: {
					form: 'This account has been suspended by the site’s admins. Reason: Harassing Bob'
				}
			}
		});
		// A wrong password hears nothing of the suspension.
		expect(await logIn(eve.username, 'not the password at all')).toMatchObject({
			data: { errors: { form: 'That email or username and password do not match.' } }
		});

		expect(await unsuspendUser(db(), sam, eve.id)).toEqual({ ok: true });
		expect(await logIn(eve.email)).toMatchObject({ kind: 'redirect', location: '/' });
		const entries = await db().select().from(auditLog).where(eq(auditLog.targetId, eve.id));
		expect(entries.map((e) => e.action).sort()).toEqual(['user.suspend', 'user.unsuspend']);
		expect((await userRow(eve.id)).suspendedAt).toBeNull();
		for (const tab of [eveTab, bobTab]) {
			tab.room.close();
			tab.hub.close();
		}
	});

	it('refuses a session that outlived the suspension, and their tokens until unsuspended', async () => {
		const { sam, eve, config, eveTab, bobTab } = await world();
		const made = await createToken(db(), eve.id, {
			name: 'script',
			scope: 'write',
			lifetime: '30d'
		});
		if (!made.ok) throw new Error(made.message);
		expect(await authenticateToken(db(), made.token)).not.toBeNull();

		await suspendUser(db(), rt(), sam, eve.id, 'Automated spam', config);
		// A session written in the same moment as the suspension, which its deletion missed.
		const late = generateSessionToken();
		await createSession(db(), late, eve.id);
		expect(await validateSessionToken(db(), late)).toMatchObject({ session: null, user: null });
		expect(await authenticateToken(db(), made.token)).toBeNull();
		// The token itself is kept, and works again afterwards.
		expect(await db().select().from(apiTokens).where(eq(apiTokens.userId, eve.id))).toHaveLength(1);
		await unsuspendUser(db(), sam, eve.id);
		expect(await authenticateToken(db(), made.token)).toMatchObject({ user: { id: eve.id } });
		for (const tab of [eveTab, bobTab]) {
			tab.room.close();
			tab.hub.close();
		}
	});

	it('refuses oneself, a site admin, an account already suspended, and a missing reason', async () => {
		const sam = await registerPerson('sam');
		const ada = await registerPerson('ada');
		const eve = await registerPerson('eve');
		const config = { SITE_ADMINS: `${sam.username},${ada.email.toUpperCase()}` };
		const suspend = (id: string, reason = 'A reason') =>
			suspendUser(db(), rt(), sam, id, reason, config);
		expect(await suspend(sam.id)).toMatchObject({ ok: false, code: 'self' });
		expect(await suspend(ada.id)).toMatchObject({ ok: false, status: 403 });
		expect(await suspend(eve.id, '   ')).toMatchObject({ ok: false, code: 'bad_input' });
		expect(await suspend('nobody')).toMatchObject({ ok: false, status: 404 });
		expect(await suspend(eve.id)).toEqual({ ok: true });
		expect(await suspend(eve.id)).toMatchObject({ ok: false, status: 409 });
		expect(await unsuspendUser(db(), sam, ada.id)).toMatchObject({ ok: false, status: 409 });
		// Nothing refused was recorded, nor changed anyone.
		const entries = await db().select().from(auditLog).where(eq(auditLog.actorId, sam.id));
		expect(entries.map((e) => [e.action, e.targetId])).toEqual([['user.suspend', eve.id]]);
		expect((await userRow(ada.id)).suspendedAt).toBeNull();
	});

	it('works on a bot, whose tokens stop', async () => {
		const sam = await registerPerson('sam');
		const bot = await registerPerson('deploys');
		await db().update(users).set({ kind: 'bot' }).where(eq(users.id, bot.id));
		const made = await createToken(db(), bot.id, { name: 'ci', scope: 'write', lifetime: 'never' });
		if (!made.ok) throw new Error(made.message);
		expect(
			await suspendUser(db(), rt(), sam, bot.id, 'Runaway', { SITE_ADMINS: sam.username })
		).toEqual({ ok: true });
		expect(await authenticateToken(db(), made.token)).toBeNull();
	});
});
