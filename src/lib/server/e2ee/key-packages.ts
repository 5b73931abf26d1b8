// A device's MLS KeyPackages (docs/e2ee.md): what lets a room's member add the device to the room's
// group while the device is away. Its browser publishes them once it knows its id (the id is the
// server's, and every KeyPackage's credential names it); a member takes one per device to add, and
// the taking deletes it, since a KeyPackage's keys are used once.
import { encodeBase64 } from '@oslojs/encoding';
import { and, eq, sql } from 'drizzle-orm';
import * as v from 'valibot';
import { verifyKeyPackage } from 'ts-mls/keyPackage.js';
import { verifyLeafNodeSignatureKeyPackage } from 'ts-mls/leafNode.js';
import type { Db } from '$lib/server/db';
import { e2eeDevices } from '$shared/db/schema';
import {
	CIPHERSUITE_NAME,
	decodeMlsWire,
	mlsSuite,
	parseCredentialIdentity
} from '$shared/e2ee/mls';
import { generateId } from '$lib/server/ids';
import { deny, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { consumeRateLimits, describeWait, RateLimits } from '$lib/server/rate-limit';
import { eligibleDeviceCount, eligibleDevices, noSuchDevice } from './devices';
import { KEY_PACKAGE_SERVED_MS } from '$shared/e2ee/mls';

/** KeyPackages one request may publish. */
export const MAX_KEY_PACKAGES_PER_PUBLISH = 50;
/** Unclaimed KeyPackages kept per device: enough for the rooms it joins before it comes back. */
export const MAX_UNCLAIMED_KEY_PACKAGES = 100;
/** Devices one claim may take a KeyPackage of: a group of 100 people with two devices each. */
export const MAX_CLAIM_DEVICES = 200;
/**
 * Base64 characters of one KeyPackage. One of our ciphersuite with ts-mls's default capabilities
 * is under 500; this leaves room for extensions without letting one request carry megabytes.
 */
export const MAX_KEY_PACKAGE_LENGTH = 4096;

/** A refusal for claiming too fast, answered 429 with `Retry-After`. */
export type RateLimited = {
	ok: false;
	status: 429;
	code: 'rate_limited';
	message: string;
	retryAfterSeconds: number;
};

const DeviceId = v.pipe(v.string('Device ids are text.'), v.minLength(1), v.maxLength(64));

/** What `POST /api/e2ee/devices/<id>/key-packages` takes. */
export const PublishInput = v.object(
	{
		keyPackages: v.pipe(
			v.array(
				v.pipe(
					v.string('Each KeyPackage is base64 text.'),
					v.maxLength(
						MAX_KEY_PACKAGE_LENGTH,
						`A KeyPackage is at most ${MAX_KEY_PACKAGE_LENGTH} characters of base64.`
					)
				),
				'Send { keyPackages: [...] }.'
			),
			v.minLength(1, 'Send at least one KeyPackage.'),
			v.maxLength(
				MAX_KEY_PACKAGES_PER_PUBLISH,
				`Send at most ${MAX_KEY_PACKAGES_PER_PUBLISH} KeyPackages at a time.`
			)
		)
	},
	'Send { keyPackages: [...] }.'
);

/** What `POST /api/rooms/<id>/e2ee/key-packages` takes: the devices to add, each once. */
export const ClaimInput = v.object(
	{
		devices: v.pipe(
			v.array(DeviceId, 'Send { devices: [...] }, the ids of the devices to add.'),
			v.minLength(1, 'Name at least one device.'),
			v.maxLength(MAX_CLAIM_DEVICES, `Claim for at most ${MAX_CLAIM_DEVICES} devices at a time.`),
			v.check((ids) => new Set(ids).size === ids.length, 'Name each device once.')
		)
	},
	'Send { devices: [...] }, the ids of the devices to add.'
);

type Device = { id: string; userId: string; identityKey: string };

/**
 * Why `wire` is not a KeyPackage this device may publish, or null: exactly one MLS key_package
 * message of our ciphersuite whose leaf has a basic credential naming this device, is signed
 * with the device's identity key, and whose signatures (the KeyPackage's and its leaf's) verify.
 * The lifetime must hold now, and the init key differ from the leaf's key (RFC 9420, 10.1): a
 * member's ts-mls refuses to add with any other, so one kept would only fail a later add.
 */
export async function keyPackageProblem(
	wire: string,
	device: Device,
	now = Date.now()
): Promise<string | null> {
	const message = decodeMlsWire(wire);
	if (message?.wireformat !== 'mls_key_package') {
		return 'is not one MLS KeyPackage message in base64';
	}
	const { keyPackage } = message;
	if (keyPackage.cipherSuite !== CIPHERSUITE_NAME) return `must use ${CIPHERSUITE_NAME}`;
	const { leafNode } = keyPackage;
	const named =
		leafNode.credential.credentialType === 'basic'
			? parseCredentialIdentity(leafNode.credential.identity)
			: null;
	if (named?.userId !== device.userId || named.deviceId !== device.id) {
		return `must have a basic credential naming this device ("${device.userId}/${device.id}")`;
	}
	if (encodeBase64(leafNode.signaturePublicKey) !== device.identityKey) {
		return "must have the device's identity key as its signature key";
	}
	const { signature } = await mlsSuite();
	const verified =
		(await verifyKeyPackage(keyPackage, signature)) &&
		(await verifyLeafNodeSignatureKeyPackage(leafNode, signature));
	if (!verified) return 'has a signature that does not verify';
	const seconds = BigInt(Math.floor(now / 1000));
	if (leafNode.lifetime.notBefore > seconds || leafNode.lifetime.notAfter < seconds) {
		return 'is outside its lifetime';
	}
	if (encodeBase64(keyPackage.initKey) === encodeBase64(leafNode.hpkePublicKey)) {
		return 'must have an init key other than its leaf encryption key';
	}
	return null;
}

/** The person's device and its unclaimed KeyPackages, or null when it is not theirs. */
/**
 * Key packages older than this are no longer handed out or counted (they near the end of their MLS
 * lifetime): the device's browser tops up with new ones, and publishing drops the old.
 */
function servedSince(now = Date.now()): number {
	return now - KEY_PACKAGE_SERVED_MS;
}

async function ownDevice(db: Db, userId: string, deviceId: string) {
	const [row] = await db
		.select({
			id: e2eeDevices.id,
			userId: e2eeDevices.userId,
			identityKey: e2eeDevices.identityKey,
			removedAt: e2eeDevices.removedAt,
			// Named in full: drizzle writes a selected column unqualified, which the subquery's own
			// table would take for its own.
			unclaimed: sql<number>`(select count(*) from e2ee_key_packages as k
				where k.device_id = e2ee_devices.id and k.created_at > ${servedSince()})`
		})
		.from(e2eeDevices)
		.where(and(eq(e2eeDevices.id, deviceId), eq(e2eeDevices.userId, userId)));
	return row ?? null;
}

/** Why `adding` more KeyPackages may not be kept for the device, or null when they may. */
function publishRefusal(
	device: NonNullable<Awaited<ReturnType<typeof ownDevice>>>,
	adding: number
) {
	if (device.removedAt !== null) return noSuchDevice();
	if (device.unclaimed + adding > MAX_UNCLAIMED_KEY_PACKAGES) {
		const room = MAX_UNCLAIMED_KEY_PACKAGES - device.unclaimed;
		return deny(
			409,
			'too_many',
			`A device keeps at most ${MAX_UNCLAIMED_KEY_PACKAGES} unclaimed KeyPackages; this one has ${device.unclaimed}, so send at most ${room} more.`
		);
	}
	return null;
}

/**
 * Publishes KeyPackages of one of the person's active devices (approved or pending, so that a
 * pending one is ready once approved). All of them are checked first (`keyPackageProblem`), and
 * either all are kept or none is. Answers how many the device now has unclaimed.
 */
export async function publishKeyPackages(
	db: Db,
	userId: string,
	deviceId: string,
	input: unknown
): Promise<Done<{ unclaimed: number }>> {
	const parsed = v.safeParse(PublishInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const { keyPackages } = parsed.output;
	const device = await ownDevice(db, userId, deviceId);
	if (!device) return noSuchDevice();
	const refused = publishRefusal(device, keyPackages.length);
	if (refused) return refused;

	const now = Date.now();
	for (const [i, wire] of keyPackages.entries()) {
		const problem = await keyPackageProblem(wire, device, now);
		if (problem) return deny(400, 'bad_input', `KeyPackage ${i + 1} ${problem}.`);
	}

	const rows = JSON.stringify(keyPackages.map((keyPackage) => ({ id: generateId(), keyPackage })));
	// Those no longer handed out make room for the new.
	await db.run(
		sql`DELETE FROM e2ee_key_packages WHERE device_id = ${deviceId} AND created_at <= ${servedSince(now)}`
	);
	// One statement, so the cap holds against another publish for the same device and a removal
	// made meanwhile keeps none: the guard is read once, before any row goes in.
	const inserted = await db.all<{ id: string }>(sql`
		INSERT INTO e2ee_key_packages (id, device_id, key_package, created_at)
		SELECT json_extract(value, '$.id'), ${deviceId}, json_extract(value, '$.keyPackage'), ${now}
		FROM json_each(${rows})
		WHERE EXISTS (SELECT 1 FROM e2ee_devices
		              WHERE id = ${deviceId} AND user_id = ${userId} AND removed_at IS NULL)
		AND (SELECT COUNT(*) FROM e2ee_key_packages WHERE device_id = ${deviceId})
		    + ${keyPackages.length} <= ${MAX_UNCLAIMED_KEY_PACKAGES}
		RETURNING id`);
	if (inserted.length === 0) {
		// Removed, or filled by another publish, since it was read: say which, as read now.
		const changed = await ownDevice(db, userId, deviceId);
		if (!changed) return noSuchDevice();
		return (
			publishRefusal(changed, keyPackages.length) ??
			deny(409, 'too_many', 'The device changed meanwhile: ask how many it has and try again.')
		);
	}
	return { ok: true, unclaimed: device.unclaimed + inserted.length };
}

/** How many KeyPackages one of the person's devices has left, for its browser to top them up. */
export async function unclaimedKeyPackages(
	db: Db,
	userId: string,
	deviceId: string
): Promise<Done<{ unclaimed: number }>> {
	const device = await ownDevice(db, userId, deviceId);
	if (!device) return noSuchDevice();
	return { ok: true, unclaimed: device.unclaimed };
}

/** One device's KeyPackage, taken for the claimer; null when the device had none left. */
export type ClaimedKeyPackage = { deviceId: string; keyPackage: string | null };

/**
 * Takes one KeyPackage of each device named, for a member adding those devices to an encrypted
 * room's group: the claimer may read the room (which is also what sending in it takes), the room
 * is encrypted, and every device is an approved, active device of a current member. Each device's
 * oldest KeyPackage is deleted and returned by the same statement, so two claims at once never
 * get the same one; a device with none left is answered `keyPackage: null`. Counted against the
 * claimer's `e2eeClaimsPerPerson`. Answers in the order the devices were named.
 */
export async function claimKeyPackages(
	db: Db,
	claimerId: string,
	roomId: string,
	input: unknown
): Promise<Done<{ keyPackages: ClaimedKeyPackage[] }> | RateLimited> {
	const parsed = v.safeParse(ClaimInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const deviceIds = parsed.output.devices;

	const rate = await consumeRateLimits(db, [[RateLimits.e2eeClaimsPerPerson, claimerId]]);
	if (!rate.ok) {
		return {
			ok: false,
			status: 429,
			code: 'rate_limited',
			message: `Too many claims of KeyPackages. Try again in ${describeWait(rate.retryAfterSeconds)}.`,
			retryAfterSeconds: rate.retryAfterSeconds
		};
	}
	const access = await authorizeRoom(db, claimerId, roomId, 'read');
	if (!access.ok) return access;
	if (access.room.encryption !== 'mls') {
		return deny(400, 'bad_input', 'This conversation is not end-to-end encrypted.');
	}

	if ((await eligibleDeviceCount(db, roomId, deviceIds)) !== deviceIds.length) {
		return deny(
			409,
			'bad_target',
			"Some of these are not approved devices of this room's members (pending, removed, or not in the room): read the room's devices again."
		);
	}

	// One statement for every device: its oldest KeyPackage, deleted and returned at once, and
	// only while the device is still eligible (a removal made meanwhile hands out nothing).
	const taken = await db.all<{ device_id: string; key_package: string }>(sql`
		DELETE FROM e2ee_key_packages WHERE id IN (
			SELECT (SELECT k.id FROM e2ee_key_packages AS k
			        WHERE k.device_id = eligible.id AND k.created_at > ${servedSince()}
			        ORDER BY k.created_at, k.id LIMIT 1)
			FROM (${eligibleDevices(roomId, deviceIds)}) AS eligible
		)
		RETURNING device_id, key_package`);
	const byDevice = new Map(taken.map((row) => [row.device_id, row.key_package]));
	return {
		ok: true,
		keyPackages: deviceIds.map((deviceId) => ({
			deviceId,
			keyPackage: byDevice.get(deviceId) ?? null
		}))
	};
}
