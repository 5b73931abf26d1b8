// Devices as a browser makes them: an Ed25519 identity key and real MLS KeyPackages (ts-mls), so
// the directory's checks meet what a client really sends.
import { encodeBase64 } from '@oslojs/encoding';
import { generateKeyPackageWithKey, type KeyPackage } from 'ts-mls/keyPackage.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { defaultLifetime, type Lifetime } from 'ts-mls/lifetime.js';
import { credentialIdentity, encodeMlsWire, mlsSuite } from '$shared/e2ee/mls';
import { registerDevice } from '$lib/server/e2ee/devices';
import { publishKeyPackages } from '$lib/server/e2ee/key-packages';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { db, type Person } from '../../../helpers';

export type SigningKeys = { publicKey: Uint8Array; signKey: Uint8Array };

export const signingKeys = async (): Promise<SigningKeys> => (await mlsSuite()).signature.keygen();

/** A KeyPackage as ts-mls makes it, for the credential `${userId}/${deviceId}`. */
export async function makeKeyPackage(
	keys: SigningKeys,
	userId: string,
	deviceId: string,
	lifetime: Lifetime = defaultLifetime
): Promise<KeyPackage> {
	const { publicPackage } = await generateKeyPackageWithKey(
		{ credentialType: 'basic', identity: credentialIdentity(userId, deviceId) },
		defaultCapabilities(),
		lifetime,
		[],
		keys,
		await mlsSuite()
	);
	return publicPackage;
}

/** A KeyPackage on the wire: base64 of its MLS message. */
export const wireOf = (keyPackage: KeyPackage) =>
	encodeMlsWire({ version: 'mls10', wireformat: 'mls_key_package', keyPackage });

export type TestDevice = { id: string; approved: boolean; keys: SigningKeys; person: Person };

/** Registers a device of `person` with a fresh identity key. */
export async function addDevice(person: Person, name = 'Firefox on Linux'): Promise<TestDevice> {
	const keys = await signingKeys();
	const registered = await registerDevice(db(), person.id, {
		name,
		identityKey: encodeBase64(keys.publicKey)
	});
	if (!registered.ok) throw new Error(registered.message);
	return { id: registered.id, approved: registered.approved, keys, person };
}

/** `count` valid KeyPackages of the device, on the wire. */
export function keyPackagesOf(device: TestDevice, count: number): Promise<string[]> {
	return Promise.all(
		Array.from({ length: count }, async () =>
			wireOf(await makeKeyPackage(device.keys, device.person.id, device.id))
		)
	);
}

/** Publishes `count` KeyPackages of the device, returning them as published. */
export async function publish(device: TestDevice, count: number): Promise<string[]> {
	const keyPackages = await keyPackagesOf(device, count);
	const published = await publishKeyPackages(db(), device.person.id, device.id, { keyPackages });
	if (!published.ok) throw new Error(published.message);
	return keyPackages;
}

/** An end-to-end encrypted group of `owner` and `members`, in D1 (its room object is not told). */
export async function seedEncryptedRoom(owner: Person, ...members: Person[]): Promise<string> {
	const room = await createRoom(db(), {
		kind: 'group',
		name: 'Encrypted room',
		createdBy: owner.id,
		encryption: 'mls'
	});
	for (const member of members) await grantMembership(db(), room.id, member.id);
	return room.id;
}
