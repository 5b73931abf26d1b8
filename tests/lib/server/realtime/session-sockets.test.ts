import { describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { CloseCode } from '$shared/protocol';
import { hashSecret } from '$lib/server/ids';
import { openRoomSocket, openUserSocket } from '$lib/server/realtime/door';
import { SESSION_COOKIE } from '$lib/server/auth/session';
import { actions as logoutActions } from '../../../../src/routes/logout/+page.server';
import { actions as accountActions } from '../../../../src/routes/settings/account/+page.server';
import { actions as sessionActions } from '../../../../src/routes/settings/sessions/+page.server';
import { TestSocket, seedRoom } from '../../../helpers';
import { PASSWORD, db, registerPerson, signedInBrowser } from '../../../support/accounts';
import type { TestBrowser } from '../../../support/request-event';
import { HubSocket } from '../../../support/people';

vi.setConfig({ testTimeout: 30_000 });

function tokenOf(browser: TestBrowser): string {
	const token = browser.jar.get(SESSION_COOKIE);
	if (!token) throw new Error('not signed in');
	return token;
}

/** One browser's open tab in a room: its room socket and its hub socket, through the door. */
async function openTab(browser: TestBrowser, roomId: string) {
	const token = tokenOf(browser);
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

/** Alice signed in on a laptop and a phone, each with the same room open; Bob is in it too. */
async function aliceOnTwoDevices() {
	const alice = await registerPerson('alice');
	const bob = await registerPerson('bob');
	const person = (p: typeof alice) => ({ id: p.id, name: p.displayName, username: p.username });
	const roomId = await seedRoom(person(alice), person(bob));
	const laptop = await signedInBrowser(alice);
	const phone = await signedInBrowser(alice);
	const bobBrowser = await signedInBrowser(bob);
	return {
		roomId,
		laptop,
		phone,
		laptopTab: await openTab(laptop, roomId),
		phoneTab: await openTab(phone, roomId),
		bobTab: await openTab(bobBrowser, roomId)
	};
}

/** The tab was signed out: its room and hub sockets closed with the signed-out code. */
async function signedOut(tab: { room: TestSocket; hub: HubSocket }) {
	await tab.room.until(() => tab.room.closed);
	expect(tab.room.closed?.code).toBe(CloseCode.SignedOut);
	await vi.waitFor(() => expect(tab.hub.closeCode).toBe(CloseCode.SignedOut));
}

async function stillWorks(tab: { room: TestSocket; hub: HubSocket }, body: string) {
	tab.room.send({ type: 'send', clientId: body, body });
	await tab.room.next('ack', (f) => f.clientId === body);
	expect(tab.hub.closed).toBe(false);
}

describe('signing a session out closes its open sockets', () => {
	it('revoking the phone from the laptop closes the phone’s room and hub sockets, and only those', async () => {
		const { roomId, laptop, phone, laptopTab, phoneTab, bobTab } = await aliceOnTwoDevices();
		const outcome = await laptop.call(sessionActions.revoke!, {
			path: '/settings/sessions?/revoke',
			form: { sessionId: hashSecret(tokenOf(phone)) }
		});
		expect(outcome).toMatchObject({ kind: 'data', data: { message: 'Session signed out.' } });

		await signedOut(phoneTab);

		// Nothing said afterwards reaches the phone; the laptop and Bob carry on.
		await stillWorks(laptopTab, 'still here');
		await bobTab.room.next('message', (f) => f.message.body === 'still here');
		expect(phoneTab.room.of('message')).toHaveLength(0);
		await stillWorks(bobTab, 'hi laptop');

		// And the phone cannot come back with its old cookie.
		const again = await openRoomSocket(
			new Request(`https://parley.test/ws/room/${roomId}`, { headers: { Upgrade: 'websocket' } }),
			{ db: db(), rooms: env.ROOMS },
			tokenOf(phone)
		);
		expect(again.status).toBe(401);
		laptopTab.room.close();
		bobTab.room.close();
	});

	it('signing out all others keeps the current session’s sockets open', async () => {
		const { laptop, laptopTab, phoneTab, bobTab } = await aliceOnTwoDevices();
		expect(
			await laptop.call(sessionActions.revokeOthers!, {
				path: '/settings/sessions?/revokeOthers',
				form: {}
			})
		).toMatchObject({ kind: 'data' });
		await signedOut(phoneTab);
		await stillWorks(laptopTab, 'only me now');
		laptopTab.room.close();
		bobTab.room.close();
	});

	it('signing out everywhere closes every socket of the person, and Bob’s stay open', async () => {
		const { laptop, laptopTab, phoneTab, bobTab } = await aliceOnTwoDevices();
		expect(
			await laptop.call(sessionActions.signOutEverywhere!, {
				path: '/settings/sessions?/signOutEverywhere',
				form: {}
			})
		).toMatchObject({ kind: 'redirect', location: '/login?notice=signed-out-everywhere' });
		for (const tab of [laptopTab, phoneTab]) {
			await signedOut(tab);
		}
		await stillWorks(bobTab, 'everyone left?');
		bobTab.room.close();
	});

	it('logging out closes the sockets of that browser’s session only', async () => {
		const { phone, laptopTab, phoneTab, bobTab } = await aliceOnTwoDevices();
		expect(await phone.call(logoutActions.default!, { path: '/logout', form: {} })).toMatchObject({
			kind: 'redirect',
			location: '/login'
		});
		await signedOut(phoneTab);
		await stillWorks(laptopTab, 'laptop stays');
		laptopTab.room.close();
		bobTab.room.close();
	});
});

describe('changing the password', () => {
	it('signs the other devices out, sockets included', async () => {
		const { laptop, laptopTab, phoneTab, bobTab } = await aliceOnTwoDevices();
		const outcome = await laptop.call(accountActions.changePassword!, {
			path: '/settings/account?/changePassword',
			form: { currentPassword: PASSWORD, newPassword: 'a brand new long passphrase' }
		});
		expect(outcome).toMatchObject({ kind: 'data', data: { section: 'password' } });
		await signedOut(phoneTab);
		await stillWorks(laptopTab, 'new password, same laptop');
		laptopTab.room.close();
		bobTab.room.close();
	});
});
