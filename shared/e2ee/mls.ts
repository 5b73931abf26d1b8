// What the room object and the browser both know about MLS (RFC 9420) in Parley: the one
// ciphersuite, how a device and a room are named inside MLS, the wire form of every MLS blob
// (standard base64 of the encoded MLSMessage), and the clear header of a frame, which the room
// reads without any keys to order handshakes by epoch.
//
// ts-mls is imported by module path, never from its index: the index also loads its alternative
// (noble) crypto provider, whose packages Parley does not install. These modules use Web Crypto.
import { decodeBase64, encodeBase64, encodeBase64urlNoPadding } from '@oslojs/encoding';
import {
	getCiphersuiteFromName,
	type CiphersuiteImpl,
	type CiphersuiteName
} from 'ts-mls/crypto/ciphersuite.js';
import type { ContentTypeName } from 'ts-mls/contentType.js';
import { getCiphersuiteImpl } from 'ts-mls/crypto/getCiphersuiteImpl.js';
import { decodeMlsMessage, encodeMlsMessage, type MLSMessage } from 'ts-mls/message.js';

export const CIPHERSUITE_NAME =
	'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519' as const satisfies CiphersuiteName;

let suite: Promise<CiphersuiteImpl> | undefined;

/** The ciphersuite's implementation, built once (it imports Web Crypto algorithms). */
export function mlsSuite(): Promise<CiphersuiteImpl> {
	suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE_NAME));
	return suite;
}

/** How long a key package can be used to add its device, in seconds (its MLS lifetime). */
export const KEY_PACKAGE_LIFETIME_SECONDS = 30 * 24 * 60 * 60;

/**
 * How long the server hands a published key package out: less than its lifetime, so that the
 * device that claims one can still add with it (and the browser tops up what no longer counts).
 */
export const KEY_PACKAGE_SERVED_MS = (KEY_PACKAGE_LIFETIME_SECONDS - 2 * 24 * 60 * 60) * 1000;

/** A device in a group: who holds it and which of their devices it is. */
export type DeviceRef = { userId: string; deviceId: string };

const SEPARATOR = '/';

/**
 * A device's MLS `basic` credential identity: the UTF-8 of `${userId}/${deviceId}`. Neither part
 * may be empty or hold the separator, so that the identity reads back as exactly one device.
 */
export function credentialIdentity(userId: string, deviceId: string): Uint8Array {
	for (const part of [userId, deviceId]) {
		if (part === '' || part.includes(SEPARATOR)) {
			throw new Error(
				`A user or device id in a credential is non-empty and has no "${SEPARATOR}".`
			);
		}
	}
	return new TextEncoder().encode(`${userId}${SEPARATOR}${deviceId}`);
}

/** The device a credential identity names, or null for bytes that are not one. */
export function parseCredentialIdentity(bytes: Uint8Array): DeviceRef | null {
	let text: string;
	try {
		// Keeping a byte order mark makes it part of the user id: one identity, one byte string.
		text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
	} catch {
		return null;
	}
	const parts = text.split(SEPARATOR);
	if (parts.length !== 2) return null;
	const [userId, deviceId] = parts as [string, string];
	return userId && deviceId ? { userId, deviceId } : null;
}

/** The MLS group id of a room's conversation: the UTF-8 of `parley-room/${roomId}`. */
export function groupIdFor(roomId: string): Uint8Array {
	return new TextEncoder().encode(`parley-room/${roomId}`);
}

/** Group id bytes as `readMlsEnvelope` reports them: base64url without padding. */
export function encodeGroupId(groupId: Uint8Array): string {
	return encodeBase64urlNoPadding(groupId);
}

/** A room's group id as `readMlsEnvelope` reports it. */
export function groupIdText(roomId: string): string {
	return encodeGroupId(groupIdFor(roomId));
}

/** The wire form of an MLS message in Parley: standard base64 of its encoding. */
export function encodeMlsWire(message: MLSMessage): string {
	return encodeBase64(encodeMlsMessage(message));
}

/**
 * The MLS message a wire string holds, or null unless it is exactly one well-formed message
 * (bad base64, garbage, truncated, or followed by anything).
 */
export function decodeMlsWire(wire: string): MLSMessage | null {
	try {
		const bytes = decodeBase64(wire);
		const decoded = decodeMlsMessage(bytes, 0);
		return decoded !== undefined && decoded[1] === bytes.length ? decoded[0] : null;
	} catch {
		return null;
	}
}

export type MlsWireformat = MlsEnvelope['wireformat'];

/**
 * What a frame says of itself in the clear. A handshake or application message names its group
 * (base64url of the group id bytes, no padding: compare with `groupIdText(roomId)`),
 * epoch and content type; a group info its group and epoch; a welcome or key package neither.
 */
export type MlsEnvelope =
	| {
			wireformat: 'private' | 'public';
			groupId: string;
			epoch: bigint;
			contentType: ContentTypeName;
	  }
	| { wireformat: 'group_info'; groupId: string; epoch: bigint; contentType?: undefined }
	| {
			wireformat: 'welcome' | 'key_package';
			groupId?: undefined;
			epoch?: undefined;
			contentType?: undefined;
	  };

/** The clear header of a decoded message. */
export function mlsEnvelope(message: MLSMessage): MlsEnvelope {
	switch (message.wireformat) {
		case 'mls_private_message': {
			const { groupId, epoch, contentType } = message.privateMessage;
			return { wireformat: 'private', groupId: encodeGroupId(groupId), epoch, contentType };
		}
		case 'mls_public_message': {
			const { groupId, epoch, contentType } = message.publicMessage.content;
			return { wireformat: 'public', groupId: encodeGroupId(groupId), epoch, contentType };
		}
		case 'mls_group_info': {
			const { groupId, epoch } = message.groupInfo.groupContext;
			return { wireformat: 'group_info', groupId: encodeGroupId(groupId), epoch };
		}
		case 'mls_welcome':
			return { wireformat: 'welcome' };
		case 'mls_key_package':
			return { wireformat: 'key_package' };
	}
}

/**
 * The clear header of a frame, or null for anything that is not exactly one well-formed MLS
 * message. It needs no keys: the room checks with it that a commit is for the group's current
 * epoch and that an encrypted message is an application message of its room's group.
 */
export function readMlsEnvelope(wire: string): MlsEnvelope | null {
	const message = decodeMlsWire(wire);
	return message && mlsEnvelope(message);
}
