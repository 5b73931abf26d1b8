// The device directory's routes, driven as SvelteKit calls them: a browser registers itself,
// publishes its KeyPackages, another of the person's devices approves it, and a member of an
// encrypted room reads the room's devices and claims their KeyPackages. Every write is refused to
// the signed-out, to another site, and to a body that is not JSON.
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '@oslojs/encoding';
import { eq } from 'drizzle-orm';
import type { RequestEvent } from '@sveltejs/kit';
import { e2eeDevices, e2eeKeyPackages, rateLimits } from '$shared/db/schema';
import { RateLimits, rateLimitKey } from '$lib/server/rate-limit';
import * as devicesRoute from '../../src/routes/api/e2ee/devices/+server';
import * as deviceRoute from '../../src/routes/api/e2ee/devices/[id]/+server';
import * as approveRoute from '../../src/routes/api/e2ee/devices/[id]/approve/+server';
import * as keyPackagesRoute from '../../src/routes/api/e2ee/devices/[id]/key-packages/+server';
import * as roomDevicesRoute from '../../src/routes/api/rooms/[id]/e2ee/devices/+server';
import * as claimRoute from '../../src/routes/api/rooms/[id]/e2ee/key-packages/+server';
import { TestBrowser, type Call } from '../support/request-event';
import { signedInBrowser } from '../support/accounts';
import { db, seedUser } from '../helpers';
import {
	keyPackagesOf,
	seedEncryptedRoom,
	signingKeys,
	type SigningKeys,
	type TestDevice
} from '../lib/server/e2ee/support';

type Answer = { status: number; body: unknown; headers: Headers };
type Handler = (event: RequestEvent) => unknown;

/** Calls a route handler as the framework would and reads its JSON answer. */
async function call(browser: TestBrowser, handler: unknown, request: Call): Promise<Answer> {
	const outcome = await browser.call(handler as Handler, request);
	if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}`);
	const { response } = outcome;
	const body = response.status === 204 ? null : await response.json();
	return { status: response.status, body, headers: response.headers };
}

const FOREIGN = { origin: 'https://evil.example' };

/** The device a browser registers through the routes, with the keys it made for itself. */
async function registerThrough(
	browser: TestBrowser,
	person: { id: string },
	name: string
): Promise<TestDevice & { browser: TestBrowser }> {
	const keys: SigningKeys = await signingKeys();
	const registered = await call(browser, devicesRoute.POST, {
		path: '/api/e2ee/devices',
		json: { name, identityKey: encodeBase64(keys.publicKey) }
	});
	expect(registered.status).toBe(201);
	const { id, approved } = registered.body as { id: string; approved: boolean };
	const device = {
		id,
		approved,
		keys,
		person: { id: person.id, name, username: person.id },
		browser
	};
	const published = await call(browser, keyPackagesRoute.POST, {
		path: `/api/e2ee/devices/${id}/key-packages`,
		params: { id },
		json: { keyPackages: await keyPackagesOf(device, 2) }
	});
	expect(published).toMatchObject({ status: 201, body: { unclaimed: 2 } });
	return device;
}

describe('the device routes', () => {
	it('register, publish, approve, list, claim and remove', async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const roomId = await seedEncryptedRoom(ann, bob);
		const laptop = await registerThrough(await signedInBrowser(bob), bob, 'Laptop');
		const phone = await registerThrough(await signedInBrowser(bob), bob, 'Phone');
		expect([laptop.approved, phone.approved]).toEqual([true, false]);

		const mine = await call(phone.browser, devicesRoute.GET, { path: '/api/e2ee/devices' });
		expect(mine.status).toBe(200);
		expect(mine.headers.get('cache-control')).toBe('no-store');
		expect(mine.body).toEqual({
			devices: [
				expect.objectContaining({ id: laptop.id, approved: true, removedAt: null }),
				expect.objectContaining({ id: phone.id, name: 'Phone', approved: false, removedAt: null })
			]
		});

		const annBrowser = await signedInBrowser(ann);
		const roomDevices = () =>
			call(annBrowser, roomDevicesRoute.GET, {
				path: `/api/rooms/${roomId}/e2ee/devices`,
				params: { id: roomId }
			});
		const before = await roomDevices();
		expect(before.headers.get('cache-control')).toBe('no-store');
		expect(before.body).toEqual({
			devices: [expect.objectContaining({ userId: bob.id, deviceId: laptop.id })],
			removed: []
		});

		const approved = await call(laptop.browser, approveRoute.POST, {
			path: `/api/e2ee/devices/${phone.id}/approve`,
			params: { id: phone.id },
			json: { approver: laptop.id }
		});
		expect(approved.status).toBe(204);
		expect(((await roomDevices()).body as { devices: unknown[] }).devices).toHaveLength(2);

		const claim = () =>
			call(annBrowser, claimRoute.POST, {
				path: `/api/rooms/${roomId}/e2ee/key-packages`,
				params: { id: roomId },
				json: { devices: [phone.id] }
			});
		const claimed = await claim();
		expect(claimed.status).toBe(200);
		expect(claimed.body).toEqual({
			keyPackages: [{ deviceId: phone.id, keyPackage: expect.any(String) }]
		});
		const left = await call(phone.browser, keyPackagesRoute.GET, {
			path: `/api/e2ee/devices/${phone.id}/key-packages`,
			params: { id: phone.id }
		});
		expect(left).toMatchObject({ status: 200, body: { unclaimed: 1 } });
		expect(left.headers.get('cache-control')).toBe('no-store');

		// The phone is lost: the laptop removes it, twice without harm.
		for (let i = 0; i < 2; i++) {
			const removed = await call(laptop.browser, deviceRoute.DELETE, {
				path: `/api/e2ee/devices/${phone.id}`,
				method: 'DELETE',
				params: { id: phone.id }
			});
			expect(removed.status).toBe(204);
		}
		expect(
			await db().select().from(e2eeKeyPackages).where(eq(e2eeKeyPackages.deviceId, phone.id))
		).toEqual([]);
		expect((await roomDevices()).body).toEqual({
			devices: [expect.objectContaining({ deviceId: laptop.id })],
			removed: [expect.objectContaining({ deviceId: phone.id, removedAt: expect.any(Number) })]
		});
		expect((await claim()).status).toBe(409);
	});

	it('answers refusals as { error: { code, message } }', async () => {
		const ann = await seedUser('ann');
		const stranger = await seedUser('stranger');
		const roomId = await seedEncryptedRoom(ann);
		const device = await registerThrough(await signedInBrowser(ann), ann, 'Laptop');

		const bad = await call(device.browser, devicesRoute.POST, {
			path: '/api/e2ee/devices',
			json: { name: 'Laptop', identityKey: 'short' }
		});
		expect(bad.status).toBe(400);
		expect(bad.body).toEqual({
			error: { code: 'bad_input', message: expect.stringMatching(/32-byte/) }
		});

		const notMember = await call(await signedInBrowser(stranger), roomDevicesRoute.GET, {
			path: `/api/rooms/${roomId}/e2ee/devices`,
			params: { id: roomId }
		});
		expect(notMember).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });

		const notMine = await call(await signedInBrowser(stranger), deviceRoute.DELETE, {
			path: `/api/e2ee/devices/${device.id}`,
			method: 'DELETE',
			params: { id: device.id }
		});
		expect(notMine).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
		const [row] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, device.id));
		expect(row!.removedAt).toBeNull();
	});

	it('answers a claim made too fast 429 with Retry-After', async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const roomId = await seedEncryptedRoom(ann, bob);
		const device = await registerThrough(await signedInBrowser(bob), bob, 'Laptop');
		const policy = RateLimits.e2eeClaimsPerPerson;
		const now = Date.now();
		await db()
			.insert(rateLimits)
			.values({
				key: rateLimitKey(policy, ann.id),
				count: policy.limit,
				previousCount: 0,
				windowStart: now - (now % policy.windowMs)
			});
		const refused = await call(await signedInBrowser(ann), claimRoute.POST, {
			path: `/api/rooms/${roomId}/e2ee/key-packages`,
			params: { id: roomId },
			json: { devices: [device.id] }
		});
		expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
	});

	it('refuses the signed-out (401), another site (403) and a body that is not JSON (400)', async () => {
		const ann = await seedUser('ann');
		const roomId = await seedEncryptedRoom(ann);
		const device = await registerThrough(await signedInBrowser(ann), ann, 'Laptop');
		const { id } = device;
		const reads: [unknown, Call][] = [
			[devicesRoute.GET, { path: '/api/e2ee/devices' }],
			[keyPackagesRoute.GET, { path: `/api/e2ee/devices/${id}/key-packages`, params: { id } }],
			[roomDevicesRoute.GET, { path: `/api/rooms/${roomId}/e2ee/devices`, params: { id: roomId } }]
		];
		const writes: [unknown, Call, 'json' | 'none'][] = [
			[devicesRoute.POST, { path: '/api/e2ee/devices', method: 'POST' }, 'json'],
			[
				keyPackagesRoute.POST,
				{ path: `/api/e2ee/devices/${id}/key-packages`, method: 'POST', params: { id } },
				'json'
			],
			[
				approveRoute.POST,
				{ path: `/api/e2ee/devices/${id}/approve`, method: 'POST', params: { id } },
				'json'
			],
			[
				claimRoute.POST,
				{ path: `/api/rooms/${roomId}/e2ee/key-packages`, method: 'POST', params: { id: roomId } },
				'json'
			],
			[
				deviceRoute.DELETE,
				{ path: `/api/e2ee/devices/${id}`, method: 'DELETE', params: { id } },
				'none'
			]
		];
		const signedOut = new TestBrowser();
		for (const [handler, request] of [...reads, ...writes]) {
			const answer = await call(signedOut, handler, request);
			expect(answer, request.path).toMatchObject({
				status: 401,
				body: { error: { code: 'sign_in' } }
			});
		}
		const browser = await signedInBrowser(ann);
		for (const [handler, request, body] of writes) {
			const json = body === 'json' ? '{}' : undefined;
			const foreign = await call(browser, handler, { ...request, json, headers: FOREIGN });
			expect(foreign, request.path).toMatchObject({
				status: 403,
				body: { error: { code: 'forbidden' } }
			});
			if (body === 'json') {
				const notJson = await call(browser, handler, { ...request, json: 'not json' });
				expect(notJson, request.path).toMatchObject({
					status: 400,
					body: { error: { code: 'bad_input' } }
				});
			}
		}
		const [row] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, id));
		expect(row!.removedAt).toBeNull();
	});
});
