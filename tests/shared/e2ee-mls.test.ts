import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import { createCommit, createGroupInfoWithExternalPub } from 'ts-mls/createCommit.js';
import {
	CIPHERSUITE_NAME,
	credentialIdentity,
	decodeMlsWire,
	encodeMlsWire,
	groupIdFor,
	groupIdText,
	mlsSuite,
	parseCredentialIdentity,
	readMlsEnvelope
} from '$shared/e2ee/mls';
import {
	addDevices,
	commitAccepted,
	createDevice,
	encryptMessage,
	makeKeyPackages,
	startGroup
} from '$lib/client/e2ee/engine';

const ROOM = 'room0000000000000000001';

/** One MLS message of each wireformat, as Parley sends them, from a group at epoch 1. */
async function samples() {
	const alice = await createDevice('alice', 'laptop');
	const bob = await makeKeyPackages(await createDevice('bob', 'phone'), 1);
	const added = await addDevices(await startGroup(alice, ROOM), bob.published);
	const state = commitAccepted(added);
	const application = await encryptMessage(state, new TextEncoder().encode('hello'));
	const impl = await mlsSuite();
	const publicCommit = await createCommit(
		{ state: application.state, cipherSuite: impl },
		{ wireAsPublicMessage: true }
	);
	const groupInfo = await createGroupInfoWithExternalPub(application.state, [], impl);
	return {
		keyPackage: bob.published[0] ?? '',
		commit: added.commit,
		welcome: added.welcome,
		application: application.ciphertext,
		publicCommit: encodeMlsWire(publicCommit.commit),
		groupInfo: encodeMlsWire({ version: 'mls10', wireformat: 'mls_group_info', groupInfo })
	};
}

describe('readMlsEnvelope', () => {
	it('reads the clear header of each wireformat', async () => {
		const wire = await samples();
		const groupId = groupIdText(ROOM);
		expect(readMlsEnvelope(wire.commit)).toEqual({
			wireformat: 'private',
			groupId,
			epoch: 0n,
			contentType: 'commit'
		});
		expect(readMlsEnvelope(wire.application)).toEqual({
			wireformat: 'private',
			groupId,
			epoch: 1n,
			contentType: 'application'
		});
		expect(readMlsEnvelope(wire.publicCommit)).toEqual({
			wireformat: 'public',
			groupId,
			epoch: 1n,
			contentType: 'commit'
		});
		expect(readMlsEnvelope(wire.groupInfo)).toEqual({
			wireformat: 'group_info',
			groupId,
			epoch: 1n
		});
		expect(readMlsEnvelope(wire.welcome)).toEqual({ wireformat: 'welcome' });
		expect(readMlsEnvelope(wire.keyPackage)).toEqual({ wireformat: 'key_package' });
	});

	it('names the group as base64url of its id bytes', () => {
		expect(new TextDecoder().decode(groupIdFor('abc'))).toBe('parley-room/abc');
		expect(groupIdText('abc')).toBe('cGFybGV5LXJvb20vYWJj');
	});

	it('is null for anything but exactly one well-formed MLS message', async () => {
		const wire = await samples();
		for (const garbage of [
			'',
			'hello',
			'not base64!',
			'aGVsbG8',
			encodeBase64(new Uint8Array(80))
		]) {
			expect(readMlsEnvelope(garbage)).toBeNull();
		}
		expect(readMlsEnvelope(encodeBase64(crypto.getRandomValues(new Uint8Array(300))))).toBeNull();
		for (const sample of Object.values(wire)) {
			const bytes = decodeBase64(sample);
			expect(readMlsEnvelope(encodeBase64(new Uint8Array([...bytes, 0])))).toBeNull();
			expect(readMlsEnvelope(sample + sample)).toBeNull();
			for (let length = 0; length < bytes.length; length++) {
				expect(readMlsEnvelope(encodeBase64(bytes.subarray(0, length)))).toBeNull();
			}
		}
	});
});

describe('the wire form', () => {
	it('is standard base64 of the encoded message, and reads back', async () => {
		const { application } = await samples();
		const message = decodeMlsWire(application);
		expect(message?.wireformat).toBe('mls_private_message');
		if (message) expect(encodeMlsWire(message)).toBe(application);
	});
});

describe('credential identities', () => {
	it('are the UTF-8 of user/device, and read back', () => {
		const bytes = credentialIdentity('u1', 'd1');
		expect(new TextDecoder().decode(bytes)).toBe('u1/d1');
		expect(parseCredentialIdentity(bytes)).toEqual({ userId: 'u1', deviceId: 'd1' });
	});

	it('name exactly one device', () => {
		for (const [userId, deviceId] of [
			['', 'd1'],
			['u1', ''],
			['u/1', 'd1'],
			['u1', 'd/1']
		] as const) {
			expect(() => credentialIdentity(userId, deviceId)).toThrow();
		}
		const encode = (text: string) => new TextEncoder().encode(text);
		for (const text of ['u1', 'u1/', '/d1', 'u1/d1/x', '']) {
			expect(parseCredentialIdentity(encode(text))).toBeNull();
		}
		expect(parseCredentialIdentity(new Uint8Array([0x75, 0x2f, 0xff]))).toBeNull();
		const withMark = new Uint8Array([0xef, 0xbb, 0xbf, ...credentialIdentity('u1', 'd1')]);
		expect(parseCredentialIdentity(withMark)?.userId).toBe('\ufeffu1');
	});
});

describe('mlsSuite', () => {
	it('is the one ciphersuite, built once', async () => {
		const suite = await mlsSuite();
		expect(suite.name).toBe(CIPHERSUITE_NAME);
		expect(await mlsSuite()).toBe(suite);
	});
});
