// This browser as a device of the person's encrypted conversations (docs/e2ee.md): made and
// registered on first use, kept in step with the server's device directory (approved, removed),
// with enough key packages published for others to add it while it is away. Also the thin calls
// over the directory's routes that the device list uses, and the short code a person compares to
// approve a new device.
import { decodeBase64, encodeBase32UpperCaseNoPadding, encodeBase64 } from '@oslojs/encoding';
import * as v from 'valibot';
import { credentialIdentity, mlsSuite } from '$shared/e2ee/mls';
import { clientLabel } from '$lib/user-agent';
import { findKeyPackageSecret, makeKeyPackages, type Device } from './engine';
import type { DeviceRecord, E2eeStore } from './keystore';

/** Below this many unclaimed key packages, more are published… */
export const KEY_PACKAGES_LOW = 20;
/** …up to this many (also the most the server takes in one request). */
export const KEY_PACKAGES_TARGET = 50;

/** What of the store the device's upkeep uses. */
export type DeviceKeeper = Pick<E2eeStore, 'userId' | 'loadDevice' | 'saveDevice' | 'forgetDevice'>;

type Fetch = typeof fetch;

/**
 * The server said no (`{ error: { code, message } }`, its words in `message`), or was not reached
 * (`status` 0, code `network`), or answered what this page cannot read (code `bad_answer`).
 */
export type Refusal = { ok: false; status: number; code: string; message: string };
export type Answer<T extends object = Record<never, never>> = ({ ok: true } & T) | Refusal;

const ErrorBody = v.object({ error: v.object({ code: v.string(), message: v.string() }) });

async function call<T extends object>(
	fetchFn: Fetch,
	path: string,
	init: { method: 'GET' | 'POST' | 'DELETE'; json?: unknown },
	answer: v.GenericSchema<unknown, T> | null
): Promise<Answer<T>> {
	let response: Response;
	try {
		response = await fetchFn(path, {
			method: init.method,
			headers: init.json === undefined ? undefined : { 'content-type': 'application/json' },
			body: init.json === undefined ? undefined : JSON.stringify(init.json)
		});
	} catch {
		return {
			ok: false,
			status: 0,
			code: 'network',
			message: 'The server could not be reached. Check your connection and try again.'
		};
	}
	const body: unknown = response.status === 204 ? null : await response.json().catch(() => null);
	if (!response.ok) {
		const said = v.safeParse(ErrorBody, body);
		return said.success
			? { ok: false, status: response.status, ...said.output.error }
			: {
					ok: false,
					status: response.status,
					code: 'unknown',
					message: 'Something went wrong on our side. Try again.'
				};
	}
	if (answer === null) return { ok: true } as Answer<T>;
	const parsed = v.safeParse(answer, body);
	return parsed.success
		? { ok: true, ...parsed.output }
		: {
				ok: false,
				status: response.status,
				code: 'bad_answer',
				message: 'The server answered something this page does not understand. Reload it.'
			};
}

const DEVICES = '/api/e2ee/devices';
const devicePath = (id: string) => `${DEVICES}/${encodeURIComponent(id)}`;
const keyPackagesPath = (id: string) => `${devicePath(id)}/key-packages`;

const Registered = v.object({ id: v.string(), approved: v.boolean() });
const Unclaimed = v.object({ unclaimed: v.pipe(v.number(), v.integer(), v.minValue(0)) });

const ListedDevice = v.object({
	id: v.string(),
	name: v.string(),
	/** Its Ed25519 public key, base64. */
	identityKey: v.string(),
	createdAt: v.number(),
	/** False while it waits for one of the person's approved devices. */
	approved: v.boolean(),
	/** When it was removed; removed devices stay listed for a while. */
	removedAt: v.nullable(v.number())
});
/** One of the person's devices, as their device list shows it. */
export type ListedDevice = v.InferOutput<typeof ListedDevice>;
const DeviceList = v.object({ devices: v.array(ListedDevice) });

// ---- the device list's calls ----

/** The person's devices, oldest first: approved, pending, and those removed lately. */
export function listDevices(fetchFn: Fetch = fetch): Promise<Answer<{ devices: ListedDevice[] }>> {
	return call(fetchFn, DEVICES, { method: 'GET' }, DeviceList);
}

/** Removes one of the person's devices (a lost one): it leaves their conversations' groups. */
export function removeDevice(deviceId: string, fetchFn: Fetch = fetch): Promise<Answer> {
	return call(fetchFn, devicePath(deviceId), { method: 'DELETE' }, null);
}

/**
 * Approves the person's pending device from this one (`approverId`), if `typed` is the code the
 * pending device shows. The code is computed here from the identity key the server lists for it,
 * so a server that listed another key would be caught here: the server never decides the match.
 */
export async function approveDevice(
	approverId: string,
	pending: Pick<ListedDevice, 'id' | 'identityKey'>,
	typed: string,
	fetchFn: Fetch = fetch
): Promise<Answer> {
	if (!(await deviceCodeMatches(typed, decodeBase64(pending.identityKey)))) {
		return {
			ok: false,
			status: 0,
			code: 'wrong_code',
			message: 'That is not the code the new device shows. Check it and type it again.'
		};
	}
	return call(
		fetchFn,
		`${devicePath(pending.id)}/approve`,
		{ method: 'POST', json: { approver: approverId } },
		null
	);
}

// ---- the short code ----

const RFC4648 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The code a person compares on their two devices to approve the new one: the first 50 bits of
 * SHA-256 of its identity key, as 10 characters of Crockford's base32, `XXXXX-XXXXX`.
 */
export async function deviceCode(identityKey: Uint8Array): Promise<string> {
	const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(identityKey));
	// @oslojs/encoding spells base32 in RFC 4648's alphabet only: the same 5-bit groups, respelled.
	const symbols = [...encodeBase32UpperCaseNoPadding(new Uint8Array(digest)).slice(0, 10)]
		.map((symbol) => CROCKFORD[RFC4648.indexOf(symbol)])
		.join('');
	return `${symbols.slice(0, 5)}-${symbols.slice(5)}`;
}

/**
 * Whether a typed code is the device's, read as Crockford's base32 is meant to be read: any case,
 * hyphens and spaces ignored, O for 0, and I or L for 1.
 */
export async function deviceCodeMatches(typed: string, identityKey: Uint8Array): Promise<boolean> {
	const read = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
	return read === (await deviceCode(identityKey)).replace('-', '');
}

/** The name a new device is registered under: "Chrome on Linux". */
export function defaultDeviceName(userAgent: string = navigator.userAgent): string {
	return clientLabel(userAgent);
}

// ---- this browser's device ----

/**
 * Where this browser stands as a device. `removed`: it was removed (from another of the person's
 * devices), and its keys here are forgotten; `ensureDevice` again makes a new device. Any other
 * refusal leaves everything as it was: try again later. `keyPackages` says how the top-up went.
 */
export type EnsuredDevice =
	| {
			ok: true;
			device: Device;
			approved: boolean;
			keyPackages: Answer<{ unclaimed: number }>;
	  }
	| (Refusal & { removed: boolean });

/**
 * This browser's device: the one kept in `store`, checked against the server's list, or a new one
 * registered under `deviceName`. Either way its published key packages are topped up.
 */
export function ensureDevice(
	userId: string,
	deviceName: string,
	store: DeviceKeeper,
	fetchFn: Fetch = fetch
): Promise<EnsuredDevice> {
	return inTurn(userId, async () => {
		const kept = await store.loadDevice();
		const standing = kept
			? await checked(kept, store, fetchFn)
			: await registered(userId, deviceName, store, fetchFn);
		if (!standing.ok) return refused(standing, store);
		const { device, approved } = standing.record;
		const keyPackages = await toppedUp(standing.record, store, fetchFn);
		if (!keyPackages.ok && isGone(keyPackages)) return refused(keyPackages, store);
		return { ok: true, device, approved, keyPackages };
	});
}

/**
 * A welcome was joined: the secret of the key package it was made for is used up (single use), so
 * it is dropped. Secrets of packages the server no longer lists are kept until then, since a
 * welcome may wait in a room long after its package was claimed.
 */
export function forgetUsedKeyPackage(store: DeviceKeeper, welcome: string): Promise<void> {
	return inTurn(store.userId, async () => {
		const record = await store.loadDevice();
		const used = record && (await findKeyPackageSecret(record.keyPackages, welcome));
		if (!record || !used) return;
		const keyPackages = record.keyPackages.filter((kept) => kept.keyPackage !== used.keyPackage);
		await store.saveDevice({ ...record, keyPackages });
	});
}

/**
 * Runs `work` alone among this person's tabs: two tabs opening at once must not register two
 * devices, nor lose each other's key package secrets by saving the record over one another.
 */
function inTurn<T>(userId: string, work: () => Promise<T>): Promise<T> {
	return typeof navigator !== 'undefined' && navigator.locks
		? navigator.locks.request(`parley-e2ee:device:${userId}`, work)
		: work();
}

type Standing = { ok: true; record: DeviceRecord } | Refusal;

/** The device directory no longer has this device, or has it removed. */
function isGone(refusal: Refusal): boolean {
	return refusal.status === 404 || refusal.status === 410;
}

const REMOVED: Refusal = {
	ok: false,
	status: 404,
	code: 'device_removed',
	message:
		'This browser was removed from your devices for encrypted conversations, so its keys here were deleted.'
};

async function refused(refusal: Refusal, store: DeviceKeeper): Promise<EnsuredDevice> {
	if (refusal.code !== REMOVED.code && !isGone(refusal)) return { ...refusal, removed: false };
	await store.forgetDevice();
	return { ...REMOVED, removed: true };
}

/** The kept device as the server lists it now: approved since, or removed. */
async function checked(
	record: DeviceRecord,
	store: DeviceKeeper,
	fetchFn: Fetch
): Promise<Standing> {
	const listed = await listDevices(fetchFn);
	if (!listed.ok) return listed;
	const mine = listed.devices.find((device) => device.id === record.device.deviceId);
	if (!mine || mine.removedAt !== null) return REMOVED;
	if (mine.approved === record.approved) return { ok: true, record };
	const now = { ...record, approved: mine.approved };
	await store.saveDevice(now);
	return { ok: true, record: now };
}

/**
 * Registers a new device. Its keys are made first, since the server takes the identity key and
 * answers the id that the device's credential then names; the device is kept as soon as it has it.
 */
async function registered(
	userId: string,
	name: string,
	store: DeviceKeeper,
	fetchFn: Fetch
): Promise<Standing> {
	const { publicKey, signKey } = await (await mlsSuite()).signature.keygen();
	const answer = await call(
		fetchFn,
		DEVICES,
		{ method: 'POST', json: { name, identityKey: encodeBase64(publicKey) } },
		Registered
	);
	if (!answer.ok) return answer;
	credentialIdentity(userId, answer.id); // an id that cannot name a device is refused here
	const record: DeviceRecord = {
		device: { userId, deviceId: answer.id, identityKey: publicKey, signKey },
		approved: answer.approved,
		keyPackages: []
	};
	await store.saveDevice(record);
	return { ok: true, record };
}

/** Publishes key packages when fewer than KEY_PACKAGES_LOW are left, up to KEY_PACKAGES_TARGET. */
async function toppedUp(
	record: DeviceRecord,
	store: DeviceKeeper,
	fetchFn: Fetch
): Promise<Answer<{ unclaimed: number }>> {
	const path = keyPackagesPath(record.device.deviceId);
	const left = await call(fetchFn, path, { method: 'GET' }, Unclaimed);
	if (!left.ok || left.unclaimed >= KEY_PACKAGES_LOW) return left;
	const made = await makeKeyPackages(record.device, KEY_PACKAGES_TARGET - left.unclaimed);
	// Kept before they are published: a welcome made for a package whose secret was lost could
	// never be joined.
	await store.saveDevice({ ...record, keyPackages: [...record.keyPackages, ...made.secrets] });
	const published = await call(
		fetchFn,
		path,
		{ method: 'POST', json: { keyPackages: made.published } },
		Unclaimed
	);
	// Refused, none of them was kept; unanswered, they may have been, so their secrets stay.
	if (!published.ok && published.status >= 400 && published.status < 500) {
		await store.saveDevice(record);
	}
	return published;
}
