// This browser as a device, against the device directory's real routes (run as SvelteKit would,
// over the test D1): registering, publishing and topping up key packages, approval by the short
// code, removal from elsewhere, and refusals. The store is kept in memory (workerd has no
// IndexedDB); the IndexedDB store itself is exercised by the browser's end-to-end tests.
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '@oslojs/encoding';
import { eq, inArray } from 'drizzle-orm';
import type { RequestEvent } from '@sveltejs/kit';
import { e2eeKeyPackages } from '$shared/db/schema';
import {
	addDevices,
	createDevice,
	joinFromWelcome,
	loadDevice,
	saveDevice,
	startGroup
} from '$lib/client/e2ee/engine';
import {
	KEY_PACKAGES_TARGET,
	approveDevice,
	defaultDeviceName,
	deviceCode,
	deviceCodeMatches,
	ensureDevice,
	forgetUsedKeyPackage,
	listDevices,
	removeDevice,
	type DeviceKeeper,
	type EnsuredDevice
} from '$lib/client/e2ee/device-session';
import type { DeviceRecord } from '$lib/client/e2ee/keystore';
import * as devicesRoute from '../../../../src/routes/api/e2ee/devices/+server';
import * as deviceRoute from '../../../../src/routes/api/e2ee/devices/[id]/+server';
import * as approveRoute from '../../../../src/routes/api/e2ee/devices/[id]/approve/+server';
import * as keyPackagesRoute from '../../../../src/routes/api/e2ee/devices/[id]/key-packages/+server';
import { signedInBrowser } from '../../../support/accounts';
import type { TestBrowser } from '../../../support/request-event';
import { db, seedUser } from '../../../helpers';
import { addDevice } from '../../server/e2ee/support';

type Handler = (event: RequestEvent) => unknown;
type Method = 'GET' | 'POST' | 'DELETE';

const ROUTES: [RegExp, Partial<Record<Method, unknown>>][] = [
	[/^\/api\/e2ee\/devices$/, devicesRoute],
	[/^\/api\/e2ee\/devices\/([^/]+)$/, deviceRoute],
	[/^\/api\/e2ee\/devices\/([^/]+)\/approve$/, approveRoute],
	[/^\/api\/e2ee\/devices\/([^/]+)\/key-packages$/, keyPackagesRoute]
];

/** A `fetch` that answers as the app would: the request goes to the route's own handler. */
function appFetch(browser: TestBrowser): typeof fetch {
	return async (input, init) => {
		const path = new URL(String(input), 'https://parley.test').pathname;
		const method = (init?.method ?? 'GET') as Method;
		for (const [pattern, route] of ROUTES) {
			const match = pattern.exec(path);
			const handler = match && route[method];
			if (!handler) continue;
			const id = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
			const outcome = await browser.call(handler as Handler, {
				path,
				method,
				params: id === undefined ? {} : { id },
				json: typeof init?.body === 'string' ? init.body : undefined
			});
			if (outcome.kind !== 'response') throw new Error(`${path} answered ${outcome.kind}`);
			return outcome.response;
		}
		throw new Error(`No route for ${method} ${path}`);
	};
}

/** The store as the device's upkeep uses it, in memory; kept as IndexedDB would (a copy). */
class MemoryKeeper implements DeviceKeeper {
	#saved: unknown = null;
	constructor(readonly userId: string) {}
	async loadDevice(): Promise<DeviceRecord | null> {
		if (this.#saved === null) return null;
		const { device, approved, keyPackages } = structuredClone(this.#saved) as {
			device: unknown;
			approved: boolean;
			keyPackages: DeviceRecord['keyPackages'];
		};
		return { device: loadDevice(device), approved, keyPackages };
	}
	async saveDevice(record: DeviceRecord): Promise<void> {
		this.#saved = structuredClone({ ...record, device: saveDevice(record.device) });
	}
	async forgetDevice(): Promise<void> {
		this.#saved = null;
	}
}

function ready(result: EnsuredDevice) {
	if (!result.ok) throw new Error(`expected a device, got ${result.code}: ${result.message}`);
	return result;
}

async function personWithBrowser(name: string) {
	const person = await seedUser(name);
	const browser = await signedInBrowser(person);
	return { person, browser, fetch: appFetch(browser), store: new MemoryKeeper(person.id) };
}

async function publishedPackages(deviceId: string): Promise<string[]> {
	const rows = await db()
		.select({ keyPackage: e2eeKeyPackages.keyPackage })
		.from(e2eeKeyPackages)
		.where(eq(e2eeKeyPackages.deviceId, deviceId));
	return rows.map((row) => row.keyPackage).sort();
}

/** Takes `count` of the device's key packages out of the directory, as members' claims would. */
async function claim(deviceId: string, count: number): Promise<void> {
	const rows = await db()
		.select({ id: e2eeKeyPackages.id })
		.from(e2eeKeyPackages)
		.where(eq(e2eeKeyPackages.deviceId, deviceId))
		.limit(count);
	await db()
		.delete(e2eeKeyPackages)
		.where(
			inArray(
				e2eeKeyPackages.id,
				rows.map((row) => row.id)
			)
		);
}

describe('this browser as a device', () => {
	it('registers on first use and publishes key packages whose secrets it keeps', async () => {
		const ann = await personWithBrowser('ann');
		const made = ready(await ensureDevice(ann.person.id, 'Firefox on Linux', ann.store, ann.fetch));
		expect(made).toMatchObject({ approved: true, keyPackages: { ok: true, unclaimed: 50 } });
		expect(made.device.userId).toBe(ann.person.id);

		const listed = await listDevices(ann.fetch);
		expect(listed).toEqual({
			ok: true,
			devices: [
				expect.objectContaining({
					id: made.device.deviceId,
					name: 'Firefox on Linux',
					identityKey: encodeBase64(made.device.identityKey),
					approved: true,
					removedAt: null
				})
			]
		});
		const kept = await ann.store.loadDevice();
		expect(kept?.device).toEqual(made.device);
		// Exactly the published ones, each with its secret: the server checked every credential.
		expect(kept?.keyPackages.map((secret) => secret.keyPackage).sort()).toEqual(
			await publishedPackages(made.device.deviceId)
		);

		// The same browser again: the same device, nothing more published.
		const again = ready(await ensureDevice(ann.person.id, 'ignored', ann.store, ann.fetch));
		expect(again.device).toEqual(made.device);
		expect(again.keyPackages).toEqual({ ok: true, unclaimed: 50 });
		expect((await ann.store.loadDevice())?.keyPackages).toHaveLength(50);
	});

	it('tops its key packages up to 50 once fewer than 20 are left, keeping the claimed ones’ secrets', async () => {
		const ann = await personWithBrowser('ann');
		const { device } = ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch));

		await claim(device.deviceId, 30);
		const at20 = ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch));
		expect(at20.keyPackages).toEqual({ ok: true, unclaimed: 20 });

		await claim(device.deviceId, 1);
		const toppedUp = ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch));
		expect(toppedUp.keyPackages).toEqual({ ok: true, unclaimed: KEY_PACKAGES_TARGET });
		const kept = (await ann.store.loadDevice())!.keyPackages.map((secret) => secret.keyPackage);
		// A claimed package's welcome may still come: its secret stays until a welcome uses it.
		expect(kept).toHaveLength(50 + 31);
		expect(kept).toEqual(expect.arrayContaining(await publishedPackages(device.deviceId)));
	});

	it('drops a key package’s secret once a welcome used it, and only that one', async () => {
		const bob = await personWithBrowser('bob');
		const { device } = ready(await ensureDevice(bob.person.id, 'Phone', bob.store, bob.fetch));
		const before = (await bob.store.loadDevice())!.keyPackages;
		const roomId = 'room-of-ann-and-bob';
		const adder = await startGroup(await createDevice('ann', 'annsdevice'), roomId);
		const { welcome } = await addDevices(adder, [before[7]!.keyPackage]);
		await joinFromWelcome(device, before, welcome, roomId);

		await forgetUsedKeyPackage(bob.store, welcome);
		const after = (await bob.store.loadDevice())!.keyPackages;
		expect(after).toEqual(before.filter((_, i) => i !== 7));
		// A welcome made for none of them changes nothing.
		await forgetUsedKeyPackage(bob.store, welcome);
		expect((await bob.store.loadDevice())!.keyPackages).toEqual(after);
	});

	it('is pending until another of the person’s devices approves it by the code it shows', async () => {
		const ann = await personWithBrowser('ann');
		const laptop = ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch));
		const phoneFetch = appFetch(await signedInBrowser(ann.person));
		const phoneStore = new MemoryKeeper(ann.person.id);
		const phone = ready(await ensureDevice(ann.person.id, 'Phone', phoneStore, phoneFetch));
		expect(phone.approved).toBe(false);
		// A pending device publishes too, to be ready once approved.
		expect(phone.keyPackages).toEqual({ ok: true, unclaimed: 50 });

		const listed = await listDevices(ann.fetch);
		if (!listed.ok) throw new Error(listed.message);
		const pending = listed.devices.find((d) => d.id === phone.device.deviceId)!;
		const shown = await deviceCode(phone.device.identityKey);

		const wrong = await approveDevice(laptop.device.deviceId, pending, 'AAAAA-AAAAA', ann.fetch);
		expect(wrong).toMatchObject({ ok: false, code: 'wrong_code', status: 0 });
		expect(ready(await ensureDevice(ann.person.id, 'Phone', phoneStore, phoneFetch)).approved).toBe(
			false
		);

		// Typed as people type it: lower case, a space for the hyphen.
		const typed = shown.toLowerCase().replace('-', ' ');
		expect(await approveDevice(laptop.device.deviceId, pending, typed, ann.fetch)).toEqual({
			ok: true
		});
		expect(ready(await ensureDevice(ann.person.id, 'Phone', phoneStore, phoneFetch)).approved).toBe(
			true
		);
		expect((await phoneStore.loadDevice())?.approved).toBe(true);

		// The server refuses in its own words: the phone is approved already.
		const twice = await approveDevice(laptop.device.deviceId, pending, shown, ann.fetch);
		expect(twice).toEqual({
			ok: false,
			status: 409,
			code: 'bad_target',
			message: 'That device is approved already.'
		});
	});

	it('forgets everything when the device was removed from elsewhere, and says so', async () => {
		const ann = await personWithBrowser('ann');
		const laptop = ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch));
		const phoneFetch = appFetch(await signedInBrowser(ann.person));
		const phoneStore = new MemoryKeeper(ann.person.id);
		const phone = ready(await ensureDevice(ann.person.id, 'Phone', phoneStore, phoneFetch));

		expect(await removeDevice(phone.device.deviceId, ann.fetch)).toEqual({ ok: true });
		const removed = await ensureDevice(ann.person.id, 'Phone', phoneStore, phoneFetch);
		expect(removed).toMatchObject({ ok: false, removed: true, code: 'device_removed' });
		expect(await phoneStore.loadDevice()).toBeNull();
		// The laptop is still the device it was.
		expect(ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch)).device).toEqual(
			laptop.device
		);

		// Next time this browser is a new device, pending like any other after the first.
		const anew = ready(await ensureDevice(ann.person.id, 'Phone', phoneStore, phoneFetch));
		expect(anew.device.deviceId).not.toBe(phone.device.deviceId);
		expect(anew.approved).toBe(false);
	});

	it('counts a device the server does not list as removed', async () => {
		const ann = await personWithBrowser('ann');
		const bob = await personWithBrowser('bob');
		// Ann's device kept in a store that Bob's session reads: the server lists no such device.
		ready(await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch));
		const removed = await ensureDevice(ann.person.id, 'Laptop', ann.store, bob.fetch);
		expect(removed).toMatchObject({ ok: false, removed: true });
		expect(await ann.store.loadDevice()).toBeNull();
	});

	it('passes on refusals and failures in their own words, forgetting nothing', async () => {
		const ann = await personWithBrowser('ann');
		for (let i = 0; i < 10; i++) await addDevice(ann.person, `Device ${i}`);
		const tooMany = await ensureDevice(ann.person.id, 'Laptop', ann.store, ann.fetch);
		expect(tooMany).toEqual({
			ok: false,
			removed: false,
			status: 409,
			code: 'too_many',
			message: 'You can use end-to-end encryption on at most 10 devices: remove one first.'
		});
		expect(await ann.store.loadDevice()).toBeNull();

		const bob = await personWithBrowser('bob');
		const { device } = ready(await ensureDevice(bob.person.id, 'Laptop', bob.store, bob.fetch));
		const offline: typeof fetch = () => Promise.reject(new TypeError('Failed to fetch'));
		const unreachable = await ensureDevice(bob.person.id, 'Laptop', bob.store, offline);
		expect(unreachable).toMatchObject({ ok: false, removed: false, status: 0, code: 'network' });
		expect((await bob.store.loadDevice())?.device).toEqual(device);

		const broken: typeof fetch = async () => new Response('<h1>Bad gateway</h1>', { status: 502 });
		expect(await listDevices(broken)).toEqual({
			ok: false,
			status: 502,
			code: 'unknown',
			message: 'Something went wrong on our side. Try again.'
		});
		expect(await removeDevice('no-such-device', bob.fetch)).toMatchObject({
			ok: false,
			status: 404,
			code: 'not_found'
		});
	});
});

describe('the short code of a device', () => {
	it('is 10 characters of Crockford base32 of SHA-256 of the identity key, the same every time', async () => {
		const key = Uint8Array.from({ length: 32 }, (_, i) => i);
		// Computed apart: the first 50 bits of SHA-256(0x00..0x1f) = 630dcd2966c433…
		expect(await deviceCode(key)).toBe('CC6WT-AB6RG');
		expect(await deviceCode(new Uint8Array(32))).toBe('CSM7N-BFRCA');
		expect(await deviceCode(key)).toBe('CC6WT-AB6RG');
		for (let i = 0; i < 20; i++) {
			const code = await deviceCode(crypto.getRandomValues(new Uint8Array(32)));
			expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
		}
	});

	it('is read as typed: any case, without the hyphen, O for 0 and I or L for 1', async () => {
		const zeros = new Uint8Array(32); // CSM7N-BFRCA
		const counting = Uint8Array.from({ length: 32 }, (_, i) => i); // CC6WT-AB6RG
		expect(await deviceCodeMatches('csm7n bfrca', zeros)).toBe(true);
		expect(await deviceCodeMatches('CSM7NBFRCA', zeros)).toBe(true);
		expect(await deviceCodeMatches(' CSM7N-BFRCA ', zeros)).toBe(true);
		expect(await deviceCodeMatches('CSM7N-BFRCA', counting)).toBe(false);
		expect(await deviceCodeMatches('CSM7N-BFRC', zeros)).toBe(false);
		expect(await deviceCodeMatches('', zeros)).toBe(false);
		// Find keys whose code holds a 0 or a 1, and type the letters people mistake them for.
		for (let i = 0; ; i++) {
			const key = Uint8Array.from({ length: 32 }, () => i);
			const code = await deviceCode(key);
			if (!/[01]/.test(code)) continue;
			expect(await deviceCodeMatches(code.replace(/0/g, 'o').replace(/1/g, 'l'), key)).toBe(true);
			expect(await deviceCodeMatches(code.replace(/0/g, 'O').replace(/1/g, 'I'), key)).toBe(true);
			break;
		}
	});
});

describe('the name a new device gets', () => {
	it.each([
		[
			'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
			'Chrome on Linux'
		],
		[
			'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
			'Safari on iOS'
		],
		[
			'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
			'Firefox on Windows'
		]
	])('names %s', (userAgent, name) => {
		expect(defaultDeviceName(userAgent)).toBe(name);
	});
});
