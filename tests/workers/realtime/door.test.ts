// The realtime door under load: every reconnect passes through it, so what one upgrade costs in D1
// round trips matters as much as the rules it applies (those are in the authorization matrix).
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { getDb } from '$lib/server/db';
import { sessions } from '$shared/db/schema';
import { hashSecret } from '$lib/server/ids';
import { openRoomSocket, openUserSocket } from '$lib/server/realtime/door';
import { SESSION_ABSOLUTE_LIFETIME_MS, validateSessionToken } from '$lib/server/auth/session';
import { countingD1, db, fakeNamespace, seedRoom } from '../../helpers';
import { befriend, block, rt, seedPerson, sessionFor } from '../../support/people';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { banMember } from '$lib/server/rooms/members';

function upgrade(roomId: string, headers: Record<string, string> = {}) {
	return new Request(`https://parley.test/ws/room/${roomId}`, {
		headers: { Upgrade: 'websocket', ...headers }
	});
}

function upgradeMe(headers: Record<string, string> = {}) {
	return new Request('https://parley.test/ws/me', {
		headers: { Upgrade: 'websocket', ...headers }
	});
}

const DAY = 24 * 60 * 60 * 1000;

/** Moves a session's clock: when it was made and when it would slide out. */
async function ageSession(token: string, times: { createdAt: number; expiresAt: number }) {
	await db()
		.update(sessions)
		.set(times)
		.where(eq(sessions.id, hashSecret(token)));
}

async function storedExpiry(token: string) {
	const [row] = await db()
		.select({ expiresAt: sessions.expiresAt })
		.from(sessions)
		.where(eq(sessions.id, hashSecret(token)));
	return row?.expiresAt;
}

function accept(response: Response): number {
	response.webSocket?.accept();
	response.webSocket?.close(1000, 'done');
	return response.status;
}

describe('the realtime door', () => {
	it('opens a room socket with one D1 round trip', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const token = await sessionFor(bob);
		const { d1, counter } = countingD1(env.DB);

		const response = await openRoomSocket(
			upgrade(room),
			{ db: getDb(d1), rooms: env.ROOMS },
			token
		);

		expect(accept(response)).toBe(101);
		expect(counter.trips).toBe(1);
	});

	it('refuses an expired session, a banned member and a blocked direct conversation', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice, bob, carol);
		const deps = { db: db(), rooms: env.ROOMS };

		const expired = await sessionFor(bob);
		await db()
			.update(sessions)
			.set({ expiresAt: Date.now() - 1 })
			.where(eq(sessions.id, hashSecret(expired)));
		expect(accept(await openRoomSocket(upgrade(room), deps, expired))).toBe(401);
		expect(accept(await openRoomSocket(upgrade(room), deps, undefined))).toBe(401);

		expect(await banMember(db(), rt(), alice, room, carol.id)).toEqual({ ok: true });
		expect(accept(await openRoomSocket(upgrade(room), deps, await sessionFor(carol)))).toBe(403);

		await befriend(alice, bob);
		const dm = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!dm.ok) throw new Error('expected a room');
		expect(accept(await openRoomSocket(upgrade(dm.roomId), deps, await sessionFor(bob)))).toBe(101);
		await block(alice, bob);
		expect(accept(await openRoomSocket(upgrade(dm.roomId), deps, await sessionFor(bob)))).toBe(403);
		expect(accept(await openRoomSocket(upgrade(dm.roomId), deps, await sessionFor(alice)))).toBe(
			403
		);
	});

	it('answers 503 with Retry-After when the room object is overloaded', async () => {
		const alice = await seedPerson('alice');
		const room = await seedRoom(alice);
		// The runtime's own overload error cannot be provoked in a test; this is its shape.
		const overloaded = Object.assign(new Error('Durable Object is overloaded.'), {
			overloaded: true
		});
		const rooms: Env['ROOMS'] = fakeNamespace(() => ({
			fetch: () => Promise.reject(overloaded)
		}));

		const response = await openRoomSocket(
			upgrade(room),
			{ db: db(), rooms },
			await sessionFor(alice)
		);

		expect(response.status).toBe(503);
		expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
	});

	it('refuses a socket opened from another origin with the victim’s cookie, on both paths', async () => {
		const alice = await seedPerson('alice');
		const room = await seedRoom(alice);
		const token = await sessionFor(alice);
		const roomDeps = { db: db(), rooms: env.ROOMS };
		const hubDeps = { db: db(), hubs: env.HUBS };
		const evil = { Origin: 'https://mallory.example' };

		for (const refused of [
			await openRoomSocket(upgrade(room, evil), roomDeps, token),
			await openUserSocket(upgradeMe(evil), hubDeps, token),
			// Same host, other scheme or port: another origin all the same.
			await openRoomSocket(upgrade(room, { Origin: 'http://parley.test' }), roomDeps, token),
			await openUserSocket(upgradeMe({ Origin: 'https://parley.test:8443' }), hubDeps, token)
		]) {
			expect(accept(refused)).toBe(403);
			expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
		}

		// The app's own pages, and scripts that send no Origin at all, still get in.
		const own = { Origin: 'https://parley.test' };
		expect(accept(await openRoomSocket(upgrade(room, own), roomDeps, token))).toBe(101);
		expect(accept(await openUserSocket(upgradeMe(own), hubDeps, token))).toBe(101);
		expect(accept(await openRoomSocket(upgrade(room), roomDeps, token))).toBe(101);
		expect(accept(await openUserSocket(upgradeMe(), hubDeps, token))).toBe(101);
	});

	it('opening /ws/me does not extend the session: the upgrade cannot carry a new cookie', async () => {
		const alice = await seedPerson('alice');
		const token = await sessionFor(alice);
		// In the half of its life where a page load would renew it.
		const expiresAt = Date.now() + 2 * DAY;
		await ageSession(token, { createdAt: Date.now() - 28 * DAY, expiresAt });
		expect(accept(await openUserSocket(upgradeMe(), { db: db(), hubs: env.HUBS }, token))).toBe(
			101
		);
		expect(await storedExpiry(token)).toBe(expiresAt);
	});

	it('refuses a session past its absolute lifetime on both paths, however recently it slid', async () => {
		const alice = await seedPerson('alice');
		const room = await seedRoom(alice);
		const token = await sessionFor(alice);
		// Used every day for three months: the sliding expiry alone would keep it forever.
		await ageSession(token, {
			createdAt: Date.now() - SESSION_ABSOLUTE_LIFETIME_MS - 1000,
			expiresAt: Date.now() + 29 * DAY
		});
		expect(accept(await openRoomSocket(upgrade(room), { db: db(), rooms: env.ROOMS }, token))).toBe(
			401
		);
		expect(accept(await openUserSocket(upgradeMe(), { db: db(), hubs: env.HUBS }, token))).toBe(
			401
		);
		// And pages refuse it too: the same rule.
		expect((await validateSessionToken(db(), token)).session).toBeNull();
	});

	it('never slides a session past its absolute lifetime', async () => {
		const alice = await seedPerson('alice');
		const token = await sessionFor(alice);
		const createdAt = Date.now() - 80 * DAY;
		await ageSession(token, { createdAt, expiresAt: Date.now() + DAY });
		const { session } = await validateSessionToken(db(), token);
		expect(session?.expiresAt).toBe(createdAt + SESSION_ABSOLUTE_LIFETIME_MS);
		expect(await storedExpiry(token)).toBe(createdAt + SESSION_ABSOLUTE_LIFETIME_MS);
	});
});
