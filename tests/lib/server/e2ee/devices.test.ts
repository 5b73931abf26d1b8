// The device directory for end-to-end encryption, against the real D1: registering and approving
// devices, publishing KeyPackages (each checked with ts-mls), claiming them for a room, removal.
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import { and, eq } from 'drizzle-orm';
import { signKeyPackage } from 'ts-mls/keyPackage.js';
import { mlsSuite } from '$shared/e2ee/mls';
import { e2eeDevices, e2eeKeyPackages, memberships, rateLimits } from '$shared/db/schema';
import {
	approveDevice,
	listOwnDevices,
	MAX_DEVICES_PER_PERSON,
	ownActiveDevice,
	registerDevice,
	removeDevice,
	REMOVED_DEVICES_LISTED_MS,
	roomDevices
} from '$lib/server/e2ee/devices';
import {
	claimKeyPackages,
	MAX_CLAIM_DEVICES,
	MAX_UNCLAIMED_KEY_PACKAGES,
	publishKeyPackages,
	unclaimedKeyPackages
} from '$lib/server/e2ee/key-packages';
import { env } from 'cloudflare:workers';
import { RateLimits, rateLimitKey } from '$lib/server/rate-limit';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';
import {
	addDevice,
	keyPackagesOf,
	makeKeyPackage,
	publish,
	seedEncryptedRoom,
	signingKeys,
	wireOf,
	type TestDevice
} from './support';

const devicesOf = (person: Person) =>
	db().select().from(e2eeDevices).where(eq(e2eeDevices.userId, person.id));

const packagesOf = (device: { id: string }) =>
	db().select().from(e2eeKeyPackages).where(eq(e2eeKeyPackages.deviceId, device.id));

/** A person with an approved first device and a second one approved by it. */
async function personWithTwoDevices(name: string) {
	const person = await seedUser(name);
	const first = await addDevice(person, 'Laptop');
	const second = await addDevice(person, 'Phone');
	expect((await approveDevice(db(), person.id, first.id, second.id)).ok).toBe(true);
	return { person, first, second: { ...second, approved: true } };
}

describe('registering a device', () => {
	it('approves the first device at once and leaves a later one pending', async () => {
		const ann = await seedUser('ann');
		const first = await addDevice(ann, '  Laptop  ');
		const second = await addDevice(ann, 'Phone');
		expect(first.approved).toBe(true);
		expect(second.approved).toBe(false);

		const rows = await devicesOf(ann);
		const firstRow = rows.find((row) => row.id === first.id)!;
		expect(firstRow).toMatchObject({
			name: 'Laptop',
			identityKey: encodeBase64(first.keys.publicKey),
			approvedBy: first.id,
			removedAt: null
		});
		expect(rows.find((row) => row.id === second.id)!.approvedBy).toBeNull();

		expect(await listOwnDevices(db(), ann.id)).toEqual([
			{
				id: first.id,
				name: 'Laptop',
				identityKey: encodeBase64(first.keys.publicKey),
				createdAt: expect.any(Number),
				approved: true,
				removedAt: null
			},
			expect.objectContaining({ id: second.id, name: 'Phone', approved: false })
		]);
	});

	it('approves a new device at once when none of the person is approved and active', async () => {
		const ann = await seedUser('ann');
		const first = await addDevice(ann);
		await removeDevice(db(), ann.id, first.id);
		expect((await addDevice(ann)).approved).toBe(true);
	});

	it('two first registrations at once: exactly one is approved', async () => {
		const ann = await seedUser('ann');
		const both = await Promise.all([addDevice(ann), addDevice(ann), addDevice(ann)]);
		expect(both.filter((device) => device.approved)).toHaveLength(1);
	});

	it('refuses bad input and stores nothing', async () => {
		const ann = await seedUser('ann');
		const key = encodeBase64((await signingKeys()).publicKey);
		const cases: [unknown, RegExp][] = [
			[null, /name, identityKey/],
			[{ name: '   ', identityKey: key }, /Name the device/],
			[{ name: 'x'.repeat(61), identityKey: key }, /60 characters/],
			[{ name: 'Laptop' }, /name, identityKey/],
			[{ name: 'Laptop', identityKey: 'not base64!' }, /32-byte/],
			[{ name: 'Laptop', identityKey: encodeBase64(new Uint8Array(33)) }, /32-byte/]
		];
		for (const [input, message] of cases) {
			const refused = await registerDevice(db(), ann.id, input);
			expect(refused, JSON.stringify(input)).toMatchObject({ ok: false, status: 400 });
			if (!refused.ok) expect(refused.message).toMatch(message);
		}
		expect(await devicesOf(ann)).toEqual([]);
	});

	it(`stops at ${MAX_DEVICES_PER_PERSON} active devices; removing one makes room`, async () => {
		const ann = await seedUser('ann');
		const devices: TestDevice[] = [];
		for (let i = 0; i < MAX_DEVICES_PER_PERSON; i++) devices.push(await addDevice(ann));
		const key = encodeBase64((await signingKeys()).publicKey);
		const refused = await registerDevice(db(), ann.id, { name: 'One more', identityKey: key });
		expect(refused).toMatchObject({ ok: false, status: 409, code: 'too_many' });
		expect(await devicesOf(ann)).toHaveLength(MAX_DEVICES_PER_PERSON);

		await removeDevice(db(), ann.id, devices[3]!.id);
		expect((await registerDevice(db(), ann.id, { name: 'One more', identityKey: key })).ok).toBe(
			true
		);
	});
});

describe('approving a device', () => {
	it("by one of the person's approved devices", async () => {
		const ann = await seedUser('ann');
		const laptop = await addDevice(ann);
		const phone = await addDevice(ann);
		expect(await approveDevice(db(), ann.id, laptop.id, phone.id)).toEqual({ ok: true });
		const [row] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, phone.id));
		expect(row!.approvedBy).toBe(laptop.id);
		// Approved once: approving again is refused and changes nothing.
		expect(await approveDevice(db(), ann.id, laptop.id, phone.id)).toMatchObject({
			ok: false,
			status: 409
		});
	});

	it('is refused from a pending device, a removed one, or another person’s', async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const laptop = await addDevice(ann);
		const pending = await addDevice(ann);
		const target = await addDevice(ann);
		const bobs = await addDevice(bob);
		const removed = await addDevice(ann);
		await approveDevice(db(), ann.id, laptop.id, removed.id);
		await removeDevice(db(), ann.id, removed.id);

		expect(await approveDevice(db(), ann.id, pending.id, target.id)).toMatchObject({
			ok: false,
			status: 403,
			code: 'forbidden'
		});
		expect(await approveDevice(db(), ann.id, removed.id, target.id)).toMatchObject({
			ok: false,
			status: 404
		});
		expect(await approveDevice(db(), ann.id, bobs.id, target.id)).toMatchObject({
			ok: false,
			status: 404
		});
		// Bob, with his own approved device, cannot approve Ann's.
		expect(await approveDevice(db(), bob.id, bobs.id, target.id)).toMatchObject({
			ok: false,
			status: 404
		});
		const [row] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, target.id));
		expect(row!.approvedBy).toBeNull();
	});

	it('is refused for a removed target', async () => {
		const ann = await seedUser('ann');
		const laptop = await addDevice(ann);
		const phone = await addDevice(ann);
		await removeDevice(db(), ann.id, phone.id);
		expect(await approveDevice(db(), ann.id, laptop.id, phone.id)).toMatchObject({
			ok: false,
			status: 404
		});
	});
});

describe('publishing KeyPackages', () => {
	it('keeps valid ones, of a pending device too, and counts them', async () => {
		const ann = await seedUser('ann');
		const laptop = await addDevice(ann);
		const phone = await addDevice(ann);
		const keyPackages = await keyPackagesOf(laptop, 3);
		expect(await publishKeyPackages(db(), ann.id, laptop.id, { keyPackages })).toEqual({
			ok: true,
			unclaimed: 3
		});
		expect((await packagesOf(laptop)).map((row) => row.keyPackage).sort()).toEqual(
			[...keyPackages].sort()
		);
		await publish(phone, 2);
		expect(await unclaimedKeyPackages(db(), ann.id, phone.id)).toEqual({ ok: true, unclaimed: 2 });
	});

	it('refuses each bad one, naming it, and keeps none of the batch', async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const device = await addDevice(ann);
		const other = await addDevice(ann);
		const bobs = await addDevice(bob);
		const good = await makeKeyPackage(device.keys, ann.id, device.id);
		const tampered = new Uint8Array(good.signature);
		tampered[0]! ^= 1;
		const cases: [string, string, RegExp][] = [
			['garbage', 'bm90IGFuIE1MUyBtZXNzYWdl', /not one MLS KeyPackage/],
			['not base64', '%%%', /not one MLS KeyPackage/],
			[
				'followed by more bytes',
				encodeBase64(new Uint8Array([...decodeBase64(wireOf(good)), 0])),
				/not one MLS KeyPackage/
			],
			[
				'another ciphersuite',
				wireOf({ ...good, cipherSuite: 'MLS_128_DHKEMP256_AES128GCM_SHA256_P256' }),
				/must use MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519/
			],
			[
				'another identity',
				wireOf(await makeKeyPackage(device.keys, bob.id, device.id)),
				/credential naming this device/
			],
			[
				"another device's identity",
				wireOf(await makeKeyPackage(device.keys, ann.id, other.id)),
				/credential naming this device/
			],
			[
				"another person's device's identity",
				wireOf(await makeKeyPackage(device.keys, bob.id, bobs.id)),
				/credential naming this device/
			],
			[
				'a signature key not the device’s',
				wireOf(await makeKeyPackage(await signingKeys(), ann.id, device.id)),
				/identity key as its signature key/
			],
			['a tampered signature', wireOf({ ...good, signature: tampered }), /does not verify/],
			[
				'an expired one',
				wireOf(
					await makeKeyPackage(device.keys, ann.id, device.id, { notBefore: 0n, notAfter: 1n })
				),
				/outside its lifetime/
			],
			[
				'its leaf key as its init key (signed again, so only that is wrong)',
				wireOf(
					await signKeyPackage(
						{ ...good, initKey: good.leafNode.hpkePublicKey },
						device.keys.signKey,
						(await mlsSuite()).signature
					)
				),
				/init key other than its leaf encryption key/
			],
			[
				'a tampered leaf',
				wireOf({ ...good, leafNode: { ...good.leafNode, signature: tampered } }),
				/does not verify/
			]
		];
		for (const [what, bad, message] of cases) {
			const keyPackages = [wireOf(good), bad];
			const refused = await publishKeyPackages(db(), ann.id, device.id, { keyPackages });
			expect(refused, what).toMatchObject({ ok: false, status: 400, code: 'bad_input' });
			if (!refused.ok) expect(refused.message, what).toMatch(/^KeyPackage 2 /);
			if (!refused.ok) expect(refused.message, what).toMatch(message);
		}
		expect(await packagesOf(device)).toEqual([]);
	});

	it('refuses a malformed body, another person’s device and a removed one', async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const device = await addDevice(ann);
		const keyPackages = await keyPackagesOf(device, 1);
		for (const input of [null, { keyPackages: [] }, { keyPackages: 'x' }, { keyPackages: [1] }]) {
			expect(
				await publishKeyPackages(db(), ann.id, device.id, input),
				JSON.stringify(input)
			).toMatchObject({ ok: false, status: 400 });
		}
		const tooMany = { keyPackages: Array.from({ length: 51 }, () => keyPackages[0]) };
		expect(await publishKeyPackages(db(), ann.id, device.id, tooMany)).toMatchObject({
			status: 400
		});
		expect(await publishKeyPackages(db(), bob.id, device.id, { keyPackages })).toMatchObject({
			ok: false,
			status: 404
		});
		await removeDevice(db(), ann.id, device.id);
		expect(await publishKeyPackages(db(), ann.id, device.id, { keyPackages })).toMatchObject({
			ok: false,
			status: 404
		});
		expect(await packagesOf(device)).toEqual([]);
	});

	it(`keeps at most ${MAX_UNCLAIMED_KEY_PACKAGES} unclaimed per device`, async () => {
		const ann = await seedUser('ann');
		const device = await addDevice(ann);
		// Those already kept, straight into D1 (in one statement): only their number matters here.
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
			 INSERT INTO e2ee_key_packages (id, device_id, key_package, created_at)
			 SELECT ?2 || '-' || i, ?2, 'kept', ?3 FROM n`
		)
			.bind(MAX_UNCLAIMED_KEY_PACKAGES - 2, device.id, Date.now())
			.run();
		const three = await keyPackagesOf(device, 3);
		const refused = await publishKeyPackages(db(), ann.id, device.id, { keyPackages: three });
		expect(refused).toMatchObject({ ok: false, status: 409, code: 'too_many' });
		if (!refused.ok) expect(refused.message).toMatch(/at most 2 more/);
		expect(await packagesOf(device)).toHaveLength(MAX_UNCLAIMED_KEY_PACKAGES - 2);

		const two = three.slice(0, 2);
		expect(await publishKeyPackages(db(), ann.id, device.id, { keyPackages: two })).toEqual({
			ok: true,
			unclaimed: MAX_UNCLAIMED_KEY_PACKAGES
		});
	});
});

describe('claiming KeyPackages', () => {
	it('gives a member of an encrypted room one per device, oldest first, and deletes it', async () => {
		const ann = await seedUser('ann');
		const bob = await personWithTwoDevices('bob');
		const roomId = await seedEncryptedRoom(ann, bob.person);
		const first = await publish(bob.first, 1);
		// Published a minute earlier: the oldest is the one taken.
		await db()
			.update(e2eeKeyPackages)
			.set({ createdAt: Date.now() - 60_000 })
			.where(eq(e2eeKeyPackages.deviceId, bob.first.id));
		const later = await publish(bob.first, 1);
		const phone = await publish(bob.second, 1);

		const claimed = await claimKeyPackages(db(), ann.id, roomId, {
			devices: [bob.second.id, bob.first.id]
		});
		expect(claimed).toEqual({
			ok: true,
			keyPackages: [
				{ deviceId: bob.second.id, keyPackage: phone[0] },
				{ deviceId: bob.first.id, keyPackage: first[0] }
			]
		});
		expect((await packagesOf(bob.first)).map((row) => row.keyPackage)).toEqual(later);
		expect(await packagesOf(bob.second)).toEqual([]);

		// None left: said so, not refused.
		expect(await claimKeyPackages(db(), ann.id, roomId, { devices: [bob.second.id] })).toEqual({
			ok: true,
			keyPackages: [{ deviceId: bob.second.id, keyPackage: null }]
		});
	});

	it('refuses a stranger, a plain room, and devices that are not eligible, taking nothing', async () => {
		const ann = await seedUser('ann');
		const stranger = await seedUser('stranger');
		const bob = await personWithTwoDevices('bob');
		const carol = await seedUser('carol');
		const carolsDevice = await addDevice(carol);
		const bobsPending = await addDevice(bob.person);
		const bobsRemoved = await addDevice(bob.person);
		await approveDevice(db(), bob.person.id, bob.first.id, bobsRemoved.id);
		for (const device of [bob.first, carolsDevice, bobsPending, bobsRemoved]) {
			await publish(device, 1);
		}
		await removeDevice(db(), bob.person.id, bobsRemoved.id);
		const roomId = await seedEncryptedRoom(ann, bob.person);
		const plainRoom = await seedRoom(ann, bob.person);

		const claim = (claimer: Person, room: string, devices: string[]) =>
			claimKeyPackages(db(), claimer.id, room, { devices });
		expect(await claim(stranger, roomId, [bob.first.id])).toMatchObject({
			ok: false,
			status: 404
		});
		expect(await claim(ann, plainRoom, [bob.first.id])).toMatchObject({
			ok: false,
			status: 400,
			message: expect.stringMatching(/not end-to-end encrypted/)
		});
		for (const [what, device] of [
			["a non-member's device", carolsDevice],
			['a pending device', bobsPending],
			['a removed device', bobsRemoved],
			['no such device', { id: 'nosuchdevice' }]
		] as const) {
			expect(await claim(ann, roomId, [bob.first.id, device.id]), what).toMatchObject({
				ok: false,
				status: 409,
				code: 'bad_target'
			});
		}
		// A member who left takes their devices out of the room's list of claimable ones.
		await db()
			.delete(memberships)
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, bob.person.id)));
		expect(await claim(ann, roomId, [bob.first.id])).toMatchObject({ status: 409 });

		expect(await packagesOf(bob.first)).toHaveLength(1);
		expect(await packagesOf(carolsDevice)).toHaveLength(1);
		expect(await packagesOf(bobsPending)).toHaveLength(1);
	});

	it('refuses bad input: no devices, too many, one twice', async () => {
		const ann = await seedUser('ann');
		const roomId = await seedEncryptedRoom(ann);
		for (const devices of [
			[],
			Array.from({ length: MAX_CLAIM_DEVICES + 1 }, (_, i) => `d${i}`),
			['a', 'a'],
			'a'
		]) {
			expect(await claimKeyPackages(db(), ann.id, roomId, { devices })).toMatchObject({
				ok: false,
				status: 400
			});
		}
	});

	it('hands each KeyPackage out once when many claim at the same time', async () => {
		const ann = await seedUser('ann');
		const bob = await personWithTwoDevices('bob');
		const members = await Promise.all(['carl', 'dee', 'eve'].map((name) => seedUser(name)));
		const roomId = await seedEncryptedRoom(ann, bob.person, ...members);
		const published = await publish(bob.first, 3);

		const claimers = [ann, ...members, ann, ...members, ann, ...members];
		const answers = await Promise.all(
			claimers.map((claimer) =>
				claimKeyPackages(db(), claimer.id, roomId, { devices: [bob.first.id] })
			)
		);
		const handedOut = answers.map((answer) => {
			if (!answer.ok) throw new Error(answer.message);
			return answer.keyPackages[0]!.keyPackage;
		});
		const given = handedOut.filter((keyPackage) => keyPackage !== null);
		expect([...given].sort()).toEqual([...published].sort());
		expect(handedOut.filter((keyPackage) => keyPackage === null)).toHaveLength(
			claimers.length - published.length
		);
		expect(await packagesOf(bob.first)).toEqual([]);
	});

	it('counts claims against the claimer’s rate limit', async () => {
		const ann = await seedUser('ann');
		const bob = await personWithTwoDevices('bob');
		const roomId = await seedEncryptedRoom(ann, bob.person);
		await publish(bob.first, 1);
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
		const refused = await claimKeyPackages(db(), ann.id, roomId, { devices: [bob.first.id] });
		expect(refused).toMatchObject({ ok: false, status: 429, code: 'rate_limited' });
		if (!refused.ok && refused.status === 429) {
			expect(refused.retryAfterSeconds).toBeGreaterThan(0);
		}
		expect(await packagesOf(bob.first)).toHaveLength(1);
	});
});

describe('removing a device', () => {
	it('marks it removed, deletes its KeyPackages, and lists it to the room as removed', async () => {
		const ann = await seedUser('ann');
		const bob = await personWithTwoDevices('bob');
		const roomId = await seedEncryptedRoom(ann, bob.person);
		const annsDevice = await addDevice(ann);
		await publish(bob.second, 2);

		const before = await roomDevices(db(), ann.id, roomId);
		expect(before).toEqual({
			ok: true,
			devices: [bob.first, bob.second, annsDevice].map((device) => ({
				userId: device.person.id,
				deviceId: device.id,
				name: expect.any(String),
				identityKey: encodeBase64(device.keys.publicKey),
				createdAt: expect.any(Number)
			})),
			removed: []
		});

		// From any of Bob's sessions: the phone is lost. Removing twice changes nothing more.
		expect(await removeDevice(db(), bob.person.id, bob.second.id)).toEqual({ ok: true });
		const [row] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, bob.second.id));
		expect(row!.removedAt).toEqual(expect.any(Number));
		expect(await removeDevice(db(), bob.person.id, bob.second.id)).toEqual({ ok: true });
		const [again] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, bob.second.id));
		expect(again!.removedAt).toBe(row!.removedAt);
		expect(await packagesOf(bob.second)).toEqual([]);

		const after = await roomDevices(db(), bob.person.id, roomId);
		if (!after.ok) throw new Error(after.message);
		expect(after.devices.map((device) => device.deviceId)).toEqual([bob.first.id, annsDevice.id]);
		expect(after.removed).toEqual([
			expect.objectContaining({
				userId: bob.person.id,
				deviceId: bob.second.id,
				removedAt: row!.removedAt
			})
		]);
		expect(await listOwnDevices(db(), bob.person.id)).toEqual([
			expect.objectContaining({ id: bob.first.id, removedAt: null }),
			expect.objectContaining({ id: bob.second.id, removedAt: row!.removedAt })
		]);

		// Past the window, a removed device is listed no more.
		const later = row!.removedAt! + REMOVED_DEVICES_LISTED_MS + 1;
		const longAfter = await roomDevices(db(), ann.id, roomId, later);
		expect(longAfter.ok && longAfter.removed).toEqual([]);
		expect((await listOwnDevices(db(), bob.person.id, later)).map((d) => d.id)).toEqual([
			bob.first.id
		]);
	});

	it('leaves the device no longer one of the person’s active devices', async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const device = await addDevice(ann);
		expect(await ownActiveDevice(db(), ann.id, device.id)).toMatchObject({
			id: device.id,
			approved: true,
			removedAt: null
		});
		expect(await ownActiveDevice(db(), bob.id, device.id)).toBeNull();
		await removeDevice(db(), ann.id, device.id);
		expect(await ownActiveDevice(db(), ann.id, device.id)).toBeNull();
	});

	it("cannot remove another person's device", async () => {
		const ann = await seedUser('ann');
		const bob = await seedUser('bob');
		const device = await addDevice(ann);
		await publish(device, 1);
		expect(await removeDevice(db(), bob.id, device.id)).toMatchObject({ ok: false, status: 404 });
		const [row] = await db().select().from(e2eeDevices).where(eq(e2eeDevices.id, device.id));
		expect(row!.removedAt).toBeNull();
		expect(await packagesOf(device)).toHaveLength(1);
	});
});

describe("a room's devices", () => {
	it('lists only approved devices of current members, to those who may read the room', async () => {
		const ann = await seedUser('ann');
		const stranger = await seedUser('stranger');
		const annsDevice = await addDevice(ann);
		const annsPending = await addDevice(ann);
		const carol = await seedUser('carol');
		await addDevice(carol);
		const roomId = await seedEncryptedRoom(ann);

		const listed = await roomDevices(db(), ann.id, roomId);
		if (!listed.ok) throw new Error(listed.message);
		expect(listed.devices.map((device) => device.deviceId)).toEqual([annsDevice.id]);
		expect(listed.devices.map((device) => device.deviceId)).not.toContain(annsPending.id);
		expect(await roomDevices(db(), stranger.id, roomId)).toMatchObject({
			ok: false,
			status: 404
		});
	});
});
