import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import { generateKeyPackageWithKey, type KeyPackage } from 'ts-mls/keyPackage.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { defaultLifetime, type Lifetime } from 'ts-mls/lifetime.js';
import { processPrivateMessage } from 'ts-mls/processMessages.js';
import { emptyPskIndex } from 'ts-mls/pskIndex.js';
import {
	ContentError,
	KeyPackageError,
	addDevices,
	commitAccepted,
	createDevice,
	decodeContent,
	encodeContent,
	encryptMessage,
	findKeyPackageSecret,
	groupEpoch,
	groupMembers,
	joinFromWelcome,
	loadDevice,
	loadGroup,
	makeKeyPackages,
	receive,
	removeDevices,
	renewKeys,
	saveDevice,
	saveGroup,
	startGroup,
	type Content,
	type Device,
	type GroupState,
	type ReceiveFailure,
	type StoredKeyPackage
} from '$lib/client/e2ee/engine';
import {
	credentialIdentity,
	decodeMlsWire,
	encodeMlsWire,
	mlsSuite,
	type DeviceRef
} from '$shared/e2ee/mls';

const ROOM = 'room0000000000000000001';

type NewDevice = { device: Device; published: string[]; secrets: StoredKeyPackage[] };
/** A device in the conversation, with the state it keeps (replaced as it goes). */
type Member = { device: Device; state: GroupState };

async function newDevice(userId: string, deviceId: string): Promise<NewDevice> {
	const device = await createDevice(userId, deviceId);
	return { device, ...(await makeKeyPackages(device, 2)) };
}

async function join(joiner: NewDevice, welcome: string): Promise<Member> {
	return {
		device: joiner.device,
		state: await joinFromWelcome(joiner.device, joiner.secrets, welcome, ROOM)
	};
}

const ref = ({ device }: { device: Device }): DeviceRef => ({
	userId: device.userId,
	deviceId: device.deviceId
});

/** Every member applies a commit the room took; returns what each saw. */
async function deliverCommit(members: Member[], commit: string) {
	const seen = [];
	for (const member of members) {
		const received = await receive(member.state, commit);
		if (received.kind !== 'commit') throw new Error('Expected a commit.');
		member.state = received.state;
		seen.push(received);
	}
	return seen;
}

async function send(from: Member, body: string): Promise<string> {
	const { state, ciphertext } = await encryptMessage(
		from.state,
		encodeContent({ v: 1, kind: 'message', body })
	);
	from.state = state;
	return ciphertext;
}

async function read(to: Member, ciphertext: string): Promise<{ sender: DeviceRef; body: string }> {
	const received = await receive(to.state, ciphertext);
	if (received.kind !== 'application') throw new Error('Expected an application message.');
	to.state = received.state;
	const content = decodeContent(received.plaintext);
	if (content.kind !== 'message') throw new Error('Expected a message.');
	return { sender: received.sender, body: content.body };
}

async function refusedWith(attempt: Promise<unknown>, reason: ReceiveFailure) {
	await expect(attempt).rejects.toMatchObject({ name: 'ReceiveError', reason });
}

/** Alice's laptop starts the room's group and adds Bob's phone and laptop and Carol's phone. */
async function conversation() {
	const device = await createDevice('alice', 'laptop');
	const alice: Member = { device, state: await startGroup(device, ROOM) };
	const joiners = await Promise.all([
		newDevice('bob', 'phone'),
		newDevice('bob', 'laptop'),
		newDevice('carol', 'phone')
	]);
	const added = await addDevices(
		alice.state,
		joiners.map((joiner) => joiner.published[0] ?? '')
	);
	alice.state = commitAccepted(added);
	const [bobPhone, bobLaptop, carol] = await Promise.all(
		joiners.map((joiner) => join(joiner, added.welcome))
	);
	if (!bobPhone || !bobLaptop || !carol) throw new Error('Three joiners.');
	return { alice, bobPhone, bobLaptop, carol, all: [alice, bobPhone, bobLaptop, carol] };
}

describe('a room’s group', () => {
	it('starts with its creator alone, at epoch 0', async () => {
		const { device } = await newDevice('alice', 'laptop');
		const state = await startGroup(device, ROOM);
		expect(groupEpoch(state)).toBe(0n);
		expect(groupMembers(state)).toEqual([
			{ userId: 'alice', deviceId: 'laptop', identityKey: device.identityKey }
		]);
	});

	it('adds two people’s three devices, and every member reads every other', async () => {
		const { all } = await conversation();
		for (const member of all) {
			expect(groupEpoch(member.state)).toBe(1n);
			expect(groupMembers(member.state).map((m) => `${m.userId}/${m.deviceId}`)).toEqual([
				'alice/laptop',
				'bob/phone',
				'bob/laptop',
				'carol/phone'
			]);
		}
		// Each device's identity key is the same in its key packages and in the group.
		const members = groupMembers(all[0]?.state as GroupState);
		for (const member of all) {
			const inGroup = members.find(
				(m) => m.deviceId === member.device.deviceId && m.userId === member.device.userId
			);
			expect(inGroup?.identityKey).toEqual(member.device.identityKey);
		}
		for (const sender of all) {
			const ciphertext = await send(sender, `hello from ${sender.device.userId}`);
			for (const reader of all.filter((member) => member !== sender)) {
				expect(await read(reader, ciphertext)).toEqual({
					sender: ref(sender),
					body: `hello from ${sender.device.userId}`
				});
			}
		}
	});

	it('renews a device’s keys with an empty commit, which the others apply and read on after', async () => {
		const { alice, bobPhone, carol } = await conversation();
		const renewed = await renewKeys(bobPhone.state);
		const before = groupMembers(alice.state).find((m) => m.deviceId === 'phone');
		bobPhone.state = commitAccepted(renewed);
		for (const other of [alice, carol]) {
			const got = await receive(other.state, renewed.commit);
			expect(got).toMatchObject({ kind: 'commit', epoch: 2n, added: [], removed: [] });
			other.state = got.state;
		}
		// The same device, the same identity key: only its keys in the group are new.
		expect(groupMembers(alice.state).find((m) => m.deviceId === 'phone')).toEqual(before);
		const ciphertext = await send(bobPhone, 'after the renewal');
		expect(await read(alice, ciphertext)).toMatchObject({ body: 'after the renewal' });
	});

	it('removes a device: it reads nothing sent after, and the others carry on', async () => {
		const { alice, bobPhone, bobLaptop, carol } = await conversation();
		const beforeRemoval = saveGroup(carol.state);
		const removal = await removeDevices(alice.state, [ref(carol)]);
		alice.state = commitAccepted(removal);

		const [forBobPhone, forBobLaptop] = await deliverCommit([bobPhone, bobLaptop], removal.commit);
		expect(forBobPhone).toMatchObject({
			epoch: 2n,
			sender: ref(alice),
			added: [],
			removed: [ref(carol)],
			removedSelf: false
		});
		expect(forBobLaptop?.removedSelf).toBe(false);
		const [forCarol] = await deliverCommit([carol], removal.commit);
		expect(forCarol).toMatchObject({ removed: [ref(carol)], removedSelf: true });

		const after = await send(bobPhone, 'carol is gone');
		expect((await read(alice, after)).body).toBe('carol is gone');
		expect((await read(bobLaptop, after)).body).toBe('carol is gone');
		await refusedWith(receive(carol.state, after), 'not-member');
		// Nor can the keys carol held before the commit open it, even handed straight to ts-mls.
		const earlier = loadGroup(beforeRemoval);
		await refusedWith(receive(earlier, after), 'wrong-epoch');
		const message = decodeMlsWire(after);
		if (message?.wireformat !== 'mls_private_message') throw new Error('Expected a message.');
		await expect(
			processPrivateMessage(earlier, message.privateMessage, emptyPskIndex, await mlsSuite())
		).rejects.toThrow();
		await expect(encryptMessage(carol.state, new Uint8Array([1]))).rejects.toThrow();

		expect(groupMembers(alice.state).map((m) => m.userId)).toEqual(['alice', 'bob', 'bob']);
		const reply = await send(alice, 'still here');
		expect((await read(bobPhone, reply)).sender).toEqual(ref(alice));
	});

	it('lets a device added later join by welcome, but not read what came before', async () => {
		const { alice, bobPhone, bobLaptop, carol } = await conversation();
		const before = await send(bobPhone, 'before dave');
		for (const member of [alice, bobLaptop, carol]) await read(member, before);

		const daveNew = await newDevice('dave', 'tablet');
		const added = await addDevices(alice.state, [daveNew.published[1] ?? '']);
		alice.state = commitAccepted(added);
		const [seen] = await deliverCommit([bobPhone, bobLaptop, carol], added.commit);
		expect(seen).toMatchObject({ added: [ref(daveNew)], removed: [] });
		const dave = await join(daveNew, added.welcome);
		expect(groupEpoch(dave.state)).toBe(2n);

		await refusedWith(receive(dave.state, before), 'wrong-epoch');
		const after = await send(carol, 'hi dave');
		expect(await read(dave, after)).toEqual({ sender: ref(carol), body: 'hi dave' });
	});

	it('takes one of two commits made from the same epoch; the other, made again, works', async () => {
		const { alice, bobPhone, bobLaptop, carol } = await conversation();
		const daveNew = await newDevice('dave', 'tablet');
		// Both commit from epoch 1; the room takes Alice's and refuses Bob's as stale.
		const first = await addDevices(alice.state, [daveNew.published[0] ?? '']);
		const second = await removeDevices(bobPhone.state, [ref(carol)]);
		alice.state = commitAccepted(first);
		// Bob's phone kept the state its refused commit was made from, and follows the room.
		await deliverCommit([bobPhone, bobLaptop, carol], first.commit);
		const dave = await join(daveNew, first.welcome);
		for (const member of [alice, bobPhone, bobLaptop, carol, dave]) {
			expect(groupEpoch(member.state)).toBe(2n);
		}

		for (const member of [alice, bobLaptop, carol, dave]) {
			await refusedWith(receive(member.state, second.commit), 'wrong-epoch');
		}

		const again = await removeDevices(bobPhone.state, [ref(carol)]);
		bobPhone.state = commitAccepted(again);
		const seen = await deliverCommit([alice, bobLaptop, dave, carol], again.commit);
		expect(seen.map((s) => s.epoch)).toEqual([3n, 3n, 3n, 3n]);
		expect(seen.map((s) => s.removedSelf)).toEqual([false, false, false, true]);

		const message = await send(bobPhone, 'settled');
		for (const member of [alice, bobLaptop, dave]) {
			expect(await read(member, message)).toEqual({ sender: ref(bobPhone), body: 'settled' });
		}
		await refusedWith(receive(carol.state, message), 'not-member');
	});

	it('zeroes the secrets a commit replaced only once the room took it', async () => {
		const { alice } = await conversation();
		const daveNew = await newDevice('dave', 'tablet');
		const made = await addDevices(alice.state, [daveNew.published[0] ?? '']);
		const oldInitSecret = alice.state.keySchedule.initSecret;
		expect(oldInitSecret.some((byte) => byte !== 0)).toBe(true);
		commitAccepted(made);
		expect(oldInitSecret.every((byte) => byte === 0)).toBe(true);
	});

	it('reads on after a save and load of a group state mid-conversation', async () => {
		const { alice, bobLaptop, carol } = await conversation();
		await read(bobLaptop, await send(alice, 'one'));
		await read(alice, await send(bobLaptop, 'two'));

		const restored: Member = {
			device: bobLaptop.device,
			state: loadGroup(saveGroup(bobLaptop.state))
		};
		expect(groupEpoch(restored.state)).toBe(1n);
		expect(groupMembers(restored.state)).toEqual(groupMembers(bobLaptop.state));
		expect(await read(restored, await send(carol, 'three'))).toEqual({
			sender: ref(carol),
			body: 'three'
		});
		expect(await read(alice, await send(restored, 'four'))).toEqual({
			sender: ref(bobLaptop),
			body: 'four'
		});
		expect(() => loadGroup(new Uint8Array([1, 2, 3]))).toThrow('Not a saved group.');
		expect(() => loadGroup(new Uint8Array([...saveGroup(alice.state), 0]))).toThrow(
			'Not a saved group.'
		);
	});

	it('keeps a device and its key packages through JSON, and joins with them', async () => {
		const { alice, carol } = await conversation();
		const made = await newDevice('erin', 'phone');
		const stored = JSON.parse(
			JSON.stringify({ device: saveDevice(made.device), secrets: made.secrets })
		) as { device: unknown; secrets: StoredKeyPackage[] };
		const device = loadDevice(stored.device);
		expect(device).toEqual(made.device);

		const added = await addDevices(alice.state, [made.published[1] ?? '']);
		alice.state = commitAccepted(added);
		await deliverCommit([carol], added.commit);
		expect(await findKeyPackageSecret(stored.secrets, added.welcome)).toEqual(made.secrets[1]);
		const erin: Member = {
			device,
			state: await joinFromWelcome(device, stored.secrets, added.welcome, ROOM)
		};
		expect(await read(erin, await send(carol, 'welcome erin'))).toEqual({
			sender: ref(carol),
			body: 'welcome erin'
		});
		// Its key packages keep the identity key it was made with.
		const more = await makeKeyPackages(device, 1);
		const keyPackage = decodeMlsWire(more.published[0] ?? '');
		if (keyPackage?.wireformat !== 'mls_key_package') throw new Error('Expected a key package.');
		expect(keyPackage.keyPackage.leafNode.signaturePublicKey).toEqual(made.device.identityKey);

		expect(() => loadDevice({ ...saveDevice(device), v: 2 })).toThrow('Not a saved device.');
		expect(() => loadDevice({ ...saveDevice(device), deviceId: 'a/b' })).toThrow();
	});

	it('refuses a welcome made for none of its key packages, or for another room', async () => {
		const { alice } = await conversation();
		const daveNew = await newDevice('dave', 'tablet');
		const added = await addDevices(alice.state, [daveNew.published[0] ?? '']);
		const other = await newDevice('dave', 'phone');
		await expect(joinFromWelcome(other.device, other.secrets, added.welcome, ROOM)).rejects.toThrow(
			/none of this device’s key packages/
		);
		expect(await findKeyPackageSecret(other.secrets, added.welcome)).toBeNull();
		await expect(
			joinFromWelcome(daveNew.device, daveNew.secrets, added.welcome, 'another-room')
		).rejects.toThrow('another room’s group');
		await expect(findKeyPackageSecret(daveNew.secrets, added.commit)).rejects.toThrow(
			'Not an MLS welcome.'
		);
	});

	it('refuses to remove a device that is not in the group, or itself', async () => {
		const { alice, bobPhone } = await conversation();
		await expect(
			removeDevices(alice.state, [{ userId: 'bob', deviceId: 'watch' }])
		).rejects.toThrow('bob/watch is not in the group.');
		await expect(removeDevices(alice.state, [ref(alice)])).rejects.toThrow('cannot remove itself');
		await expect(removeDevices(bobPhone.state, [])).rejects.toThrow();
	});
});

describe('addDevices', () => {
	const keyPackageWith = async (
		identity: string,
		lifetime: Lifetime,
		edit: (keyPackage: KeyPackage) => void = () => {}
	) => {
		const impl = await mlsSuite();
		const { publicPackage } = await generateKeyPackageWithKey(
			{ credentialType: 'basic', identity: new TextEncoder().encode(identity) },
			defaultCapabilities(),
			lifetime,
			[],
			await impl.signature.keygen(),
			impl
		);
		edit(publicPackage);
		return encodeMlsWire({
			version: 'mls10',
			wireformat: 'mls_key_package',
			keyPackage: publicPackage
		});
	};

	async function refusal(state: GroupState, keyPackages: string[]) {
		try {
			await addDevices(state, keyPackages);
		} catch (error) {
			if (error instanceof KeyPackageError) return error;
			throw error;
		}
		throw new Error('Expected a refusal.');
	}

	it('names the key package it refuses, and why', async () => {
		const { alice } = await conversation();
		const good = (await newDevice('dave', 'tablet')).published[0] ?? '';

		const malformed = await refusal(alice.state, [good, 'AAAA']);
		expect(malformed).toMatchObject({ index: 1, device: null, problem: 'malformed' });
		expect(malformed.message).toBe('Key package 2 is not an MLS key package.');

		const forged = await keyPackageWith('frank/phone', defaultLifetime, (kp) => {
			kp.signature[0] = (kp.signature[0] ?? 0) ^ 1;
		});
		const badSignature = await refusal(alice.state, [good, forged]);
		expect(badSignature).toMatchObject({
			index: 1,
			device: { userId: 'frank', deviceId: 'phone' },
			problem: 'bad-signature'
		});
		expect(badSignature.message).toBe('Key package 2 (frank/phone) has an invalid signature.');

		const otherSuite = await keyPackageWith('frank/phone', defaultLifetime, (kp) => {
			kp.cipherSuite = 'MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519';
		});
		expect(await refusal(alice.state, [otherSuite])).toMatchObject({
			index: 0,
			problem: 'wrong-ciphersuite'
		});

		const nameless = await keyPackageWith('frank', defaultLifetime);
		expect(await refusal(alice.state, [nameless])).toMatchObject({ problem: 'bad-credential' });

		const expired = await keyPackageWith('frank/phone', { notBefore: 0n, notAfter: 1n });
		expect(await refusal(alice.state, [expired])).toMatchObject({ problem: 'expired' });

		const bobsOther = (await newDevice('bob', 'phone')).published[0] ?? '';
		expect(await refusal(alice.state, [bobsOther])).toMatchObject({
			index: 0,
			device: { userId: 'bob', deviceId: 'phone' },
			problem: 'already-member'
		});
		const dave = await newDevice('dave', 'tablet');
		expect(
			await refusal(alice.state, [dave.published[0] ?? '', dave.published[1] ?? ''])
		).toMatchObject({ index: 1, problem: 'already-member' });

		await expect(addDevices(alice.state, [])).rejects.toThrow();
		// None of this changed the group: a good key package is still added.
		expect((await addDevices(alice.state, [good])).welcome).toBeTypeOf('string');
	});
});

describe('receive', () => {
	it('refuses what is not a message of this group, leaving the state as it was', async () => {
		const { alice, bobPhone } = await conversation();
		await refusedWith(receive(bobPhone.state, ''), 'malformed');
		await refusedWith(receive(bobPhone.state, 'not base64!'), 'malformed');
		await refusedWith(receive(bobPhone.state, encodeBase64(new Uint8Array(64))), 'malformed');
		const keyPackage = (await newDevice('dave', 'tablet')).published[0] ?? '';
		await refusedWith(receive(bobPhone.state, keyPackage), 'malformed');

		const elsewhere = await startGroup((await newDevice('zed', 'laptop')).device, 'another-room');
		const stranger = await encryptMessage(elsewhere, new Uint8Array([1]));
		await refusedWith(receive(bobPhone.state, stranger.ciphertext), 'malformed');

		const ciphertext = await send(alice, 'intact');
		const bytes = decodeBase64(ciphertext);
		bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
		await refusedWith(receive(bobPhone.state, encodeBase64(bytes)), 'undecryptable');
		expect((await read(bobPhone, ciphertext)).body).toBe('intact');
	});

	it('reads a message sent in the epoch before a commit it has already applied', async () => {
		const { alice, bobPhone, carol } = await conversation();
		// Carol sends before she hears of Alice's commit; the room orders the commit first.
		const late = await send(carol, 'sent at epoch 1');
		const daveNew = await newDevice('dave', 'tablet');
		const added = await addDevices(alice.state, [daveNew.published[0] ?? '']);
		alice.state = commitAccepted(added);
		await deliverCommit([bobPhone], added.commit);
		expect(await read(bobPhone, late)).toEqual({ sender: ref(carol), body: 'sent at epoch 1' });
		// A commit from a later epoch than the device's is refused until it catches up.
		const next = await removeDevices(alice.state, [ref(carol)]);
		await refusedWith(receive(carol.state, next.commit), 'wrong-epoch');
	});

	it('pads short messages to one size', async () => {
		const { alice } = await conversation();
		const short = await send(alice, 'k');
		const longer = await send(alice, 'a chat line of some ordinary length, sent in reply');
		expect(longer.length).toBe(short.length);
		expect((await send(alice, 'x'.repeat(1000))).length).toBeGreaterThan(short.length);
	});

	it('encrypts and decrypts 100 messages (time logged)', async () => {
		const { alice, bobPhone } = await conversation();
		const started = performance.now();
		for (let i = 0; i < 100; i++) {
			await read(bobPhone, await send(alice, `message ${i}`));
		}
		const elapsed = performance.now() - started;
		console.log(`100 encrypt+decrypt pairs: ${elapsed.toFixed(0)} ms`);
	});
});

describe('message content', () => {
	const roundTrip = (content: Content) => decodeContent(encodeContent(content));

	it('carries messages, edits and reactions', () => {
		const contents: Content[] = [
			{ v: 1, kind: 'message', body: 'hello' },
			{ v: 1, kind: 'message', body: 'yes', replyTo: 42 },
			{ v: 1, kind: 'edit', seq: 3, body: 'hello, corrected' },
			{ v: 1, kind: 'reaction', seq: 3, emoji: '👍' }
		];
		for (const content of contents) expect(roundTrip(content)).toEqual(content);
	});

	it('carries files with their names and keys, and a message of files alone', () => {
		const photo = {
			id: 'f1',
			name: 'lisbon.jpg',
			type: 'image/jpeg',
			size: 2048,
			key: btoa('k'.repeat(32)),
			iv: btoa('i'.repeat(12)),
			width: 640,
			height: 480,
			placeholder: 'AAAA'
		};
		const contents: Content[] = [
			{ v: 1, kind: 'message', body: '', files: [photo] },
			{ v: 1, kind: 'message', body: 'look', replyTo: 2, files: [photo, { ...photo, id: 'f2' }] },
			{ v: 1, kind: 'edit', seq: 3, body: '', files: [photo] }
		];
		for (const content of contents) expect(roundTrip(content)).toEqual(content);
		const bad = (change: Record<string, unknown>) => () =>
			encodeContent({
				v: 1,
				kind: 'message',
				body: '',
				files: [{ ...photo, ...change }]
			} as Content);
		expect(bad({ key: btoa('short') })).toThrow(ContentError);
		expect(bad({ iv: btoa('i'.repeat(16)) })).toThrow(ContentError);
		expect(bad({ name: '' })).toThrow(ContentError);
		expect(bad({ size: 0 })).toThrow(ContentError);
		expect(bad({ extra: 1 })).toThrow(ContentError);
		expect(() => encodeContent({ v: 1, kind: 'message', body: '', files: [] } as Content)).toThrow(
			ContentError
		);
		const eleven = Array.from({ length: 11 }, (_, i) => ({ ...photo, id: `f${i}` }));
		expect(() => encodeContent({ v: 1, kind: 'message', body: 'x', files: eleven })).toThrow(
			ContentError
		);
	});

	it('refuses anything else, with a ContentError', () => {
		const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
		const refused: unknown[] = [
			{ v: 2, kind: 'message', body: 'hello' },
			{ v: 1, kind: 'shout', body: 'hello' },
			{ v: 1, kind: 'message', body: '' },
			{ v: 1, kind: 'message', body: 'x'.repeat(4001) },
			{ v: 1, kind: 'message', body: 'hello', replyTo: 0 },
			{ v: 1, kind: 'message', body: 'hello', replyTo: 1.5 },
			{ v: 1, kind: 'message', body: 'hello', extra: true },
			{ v: 1, kind: 'edit', seq: 3 },
			{ v: 1, kind: 'edit', seq: 3, body: '' },
			{ v: 1, kind: 'edit', body: 'which message?' },
			{ v: 1, kind: 'reaction', seq: 3, emoji: 'nope' },
			['message'],
			'hello',
			null
		];
		for (const value of refused) {
			expect(() => decodeContent(bytesOf(value))).toThrow(ContentError);
			expect(() => encodeContent(value as Content)).toThrow(ContentError);
		}
		expect(() => decodeContent(new TextEncoder().encode('{"v":1,'))).toThrow(ContentError);
		expect(() => decodeContent(new Uint8Array([0xff, 0xfe]))).toThrow(ContentError);
	});
});

describe('createDevice', () => {
	it('refuses ids that cannot name exactly one device', async () => {
		await expect(createDevice('ali/ce', 'laptop')).rejects.toThrow();
		await expect(createDevice('alice', '')).rejects.toThrow();
		expect(credentialIdentity('alice', 'laptop')).toEqual(new TextEncoder().encode('alice/laptop'));
	});
});
