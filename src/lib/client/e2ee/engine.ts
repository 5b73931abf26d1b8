// A device's side of Parley's end-to-end encrypted conversations: a thin layer over ts-mls
// (RFC 9420). ts-mls states are immutable, so every function returns new values; the caller keeps
// the state a function returns in place of the one it passed. Secrets that ts-mls reports as
// consumed are zeroed as soon as the state that held them can no longer be wanted.
//
// The room is the delivery service: it orders handshakes by its `seq` and takes a commit only for
// the group's current epoch. A commit made here is therefore pending until the room takes it.
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
import * as v from 'valibot';
import type { AuthenticationService } from 'ts-mls/authenticationService.js';
import type { ClientConfig } from 'ts-mls/clientConfig.js';
import {
	createGroup,
	decodeGroupState,
	encodeGroupState,
	joinGroup,
	type ClientState
} from 'ts-mls/clientState.js';
import { createCommit, type CreateCommitResult } from 'ts-mls/createCommit.js';
import { createApplicationMessage } from 'ts-mls/createMessage.js';
import type { Credential } from 'ts-mls/credential.js';
import type { CiphersuiteImpl } from 'ts-mls/crypto/ciphersuite.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import {
	generateKeyPackageWithKey,
	makeKeyPackageRef,
	verifyKeyPackage,
	type KeyPackage
} from 'ts-mls/keyPackage.js';
import { defaultKeyPackageEqualityConfig } from 'ts-mls/keyPackageEqualityConfig.js';
import { CodecError } from 'ts-mls/mlsError.js';
import { decryptSenderData, type PrivateMessage } from 'ts-mls/privateMessage.js';
import { processMessage } from 'ts-mls/processMessages.js';
import type { Proposal } from 'ts-mls/proposal.js';
import { emptyPskIndex } from 'ts-mls/pskIndex.js';
import type { RatchetTree } from 'ts-mls/ratchetTree.js';
import { leafToNodeIndex, nodeToLeafIndex, toLeafIndex, toNodeIndex } from 'ts-mls/treemath.js';
import type { ProposalWithSender } from 'ts-mls/unappliedProposals.js';
import { zeroOutUint8Array } from 'ts-mls/util/byteArray.js';
import { constantTimeEqual } from 'ts-mls/util/constantTimeCompare.js';
import type { Welcome } from 'ts-mls/welcome.js';
import {
	KEY_PACKAGE_LIFETIME_SECONDS,
	credentialIdentity,
	decodeMlsWire,
	encodeGroupId,
	encodeMlsWire,
	groupIdFor,
	groupIdText,
	mlsSuite,
	parseCredentialIdentity,
	type DeviceRef
} from '$shared/e2ee/mls';
import {
	FileId,
	isReactionEmoji,
	MAX_ATTACHMENTS,
	MAX_EMOJI_LENGTH,
	MAX_MESSAGE_LENGTH
} from '$shared/protocol';

export type { DeviceRef } from '$shared/e2ee/mls';

/** One device's view of a room's group. Secret: it holds the device's keys for the group. */
export type GroupState = ClientState;

/**
 * A device: its Ed25519 signature key pair, made once and used for every key package, so that its
 * identity key (the public half) is the same in every group. `signKey` is secret.
 */
export type Device = DeviceRef & { identityKey: Uint8Array; signKey: Uint8Array };

export type Member = DeviceRef & { identityKey: Uint8Array };

/**
 * The private half of a published key package, JSON-safe. Single use: delete it once a welcome
 * was joined with it (`findKeyPackageSecret` says which).
 */
export type StoredKeyPackage = {
	/** The key package as published (wire form). */
	keyPackage: string;
	initPrivateKey: string;
	hpkePrivateKey: string;
};

export { KEY_PACKAGE_LIFETIME_SECONDS } from '$shared/e2ee/mls';
/** A key package is valid from this long before it was made, for adders whose clock is behind. */
const CLOCK_SKEW_SECONDS = 60 * 60;

// Credentials are `basic`: they only name a device. That a device's key is really that device's
// is what two people check by comparing safety numbers.
const parleyCredentials: AuthenticationService = {
	async validateCredential(credential) {
		return credentialDevice(credential) !== null;
	}
};

const clientConfig: ClientConfig = {
	// The room delivers in one order, so keys are kept only for what that order still allows: a
	// message sent just before a commit landed (earlier epochs), a send refused (its generation is
	// skipped), and an edit, reaction or a message edited while away, read after the messages sent
	// after it (a page of history: at most 100 generations skipped and read afterwards).
	keyRetentionConfig: {
		retainKeysForGenerations: 100,
		retainKeysForEpochs: 4,
		maximumForwardRatchetSteps: 1000
	},
	// Only the adder checks a key package's lifetime: a member's leaf keeps the lifetime of the
	// key package it joined with, so checking the tree on receipt would lock out joiners of old groups.
	lifetimeConfig: {
		maximumTotalLifetime: BigInt(KEY_PACKAGE_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS),
		validateLifetimeOnReceive: false
	},
	keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
	// Encrypted content (with its signature) shorter than this is padded to it, so that short
	// chat lines all have one size.
	paddingConfig: { kind: 'padUntilLength', padUntilLength: 256 },
	authService: parleyCredentials
};

function credentialDevice(credential: Credential): DeviceRef | null {
	return credential.credentialType === 'basic'
		? parseCredentialIdentity(credential.identity)
		: null;
}

function sameDevice(a: DeviceRef, b: DeviceRef): boolean {
	return a.userId === b.userId && a.deviceId === b.deviceId;
}

function deviceName(device: DeviceRef): string {
	return `${device.userId}/${device.deviceId}`;
}

// ---- devices and key packages ----

export async function createDevice(userId: string, deviceId: string): Promise<Device> {
	credentialIdentity(userId, deviceId); // refuses ids that cannot name a device, before any key
	const { publicKey, signKey } = await (await mlsSuite()).signature.keygen();
	return { userId, deviceId, identityKey: publicKey, signKey };
}

const SavedDevice = v.object({
	v: v.literal(1),
	userId: v.string(),
	deviceId: v.string(),
	identityKey: v.string(),
	signKey: v.string()
});
/** A device as stored: JSON-safe, and as secret as the device. */
export type SavedDevice = v.InferOutput<typeof SavedDevice>;

export function saveDevice(device: Device): SavedDevice {
	return {
		v: 1,
		userId: device.userId,
		deviceId: device.deviceId,
		identityKey: encodeBase64(device.identityKey),
		signKey: encodeBase64(device.signKey)
	};
}

export function loadDevice(saved: unknown): Device {
	const parsed = v.safeParse(SavedDevice, saved);
	if (!parsed.success) throw new Error('Not a saved device.');
	const { userId, deviceId, identityKey, signKey } = parsed.output;
	credentialIdentity(userId, deviceId);
	return {
		userId,
		deviceId,
		identityKey: decodeBase64(identityKey),
		signKey: decodeBase64(signKey)
	};
}

function newKeyPackage(device: Device, impl: CiphersuiteImpl) {
	const now = Math.floor(Date.now() / 1000);
	return generateKeyPackageWithKey(
		{ credentialType: 'basic', identity: credentialIdentity(device.userId, device.deviceId) },
		defaultCapabilities(),
		{
			notBefore: BigInt(now - CLOCK_SKEW_SECONDS),
			notAfter: BigInt(now + KEY_PACKAGE_LIFETIME_SECONDS)
		},
		[],
		{ signKey: device.signKey, publicKey: device.identityKey },
		impl
	);
}

/** Key packages to publish (wire form), and their private halves to keep until one is used. */
export async function makeKeyPackages(
	device: Device,
	count: number
): Promise<{ published: string[]; secrets: StoredKeyPackage[] }> {
	const impl = await mlsSuite();
	const made = await Promise.all(
		Array.from({ length: count }, async () => {
			const { publicPackage, privatePackage } = await newKeyPackage(device, impl);
			return {
				keyPackage: encodeMlsWire({
					version: 'mls10',
					wireformat: 'mls_key_package',
					keyPackage: publicPackage
				}),
				initPrivateKey: encodeBase64(privatePackage.initPrivateKey),
				hpkePrivateKey: encodeBase64(privatePackage.hpkePrivateKey)
			};
		})
	);
	return { published: made.map((secret) => secret.keyPackage), secrets: made };
}

function storedKeyPackage(secret: StoredKeyPackage): KeyPackage {
	const message = decodeMlsWire(secret.keyPackage);
	if (message?.wireformat !== 'mls_key_package') throw new Error('Not a stored key package.');
	return message.keyPackage;
}

function decodeWelcome(wire: string): Welcome {
	const message = decodeMlsWire(wire);
	if (message?.wireformat !== 'mls_welcome') throw new Error('Not an MLS welcome.');
	return message.welcome;
}

async function matchingSecret(
	secrets: StoredKeyPackage[],
	welcome: Welcome,
	impl: CiphersuiteImpl
): Promise<StoredKeyPackage | null> {
	for (const secret of secrets) {
		const ref = await makeKeyPackageRef(storedKeyPackage(secret), impl.hash);
		if (welcome.secrets.some((entry) => constantTimeEqual(entry.newMember, ref))) return secret;
	}
	return null;
}

/** Which of this device's key packages a welcome was made for, if any. */
export async function findKeyPackageSecret(
	secrets: StoredKeyPackage[],
	welcome: string
): Promise<StoredKeyPackage | null> {
	return matchingSecret(secrets, decodeWelcome(welcome), await mlsSuite());
}

// ---- groups ----

/** A new group for a room, with this device its only member, at epoch 0. */
export async function startGroup(device: Device, roomId: string): Promise<GroupState> {
	const impl = await mlsSuite();
	const { publicPackage, privatePackage } = await newKeyPackage(device, impl);
	zeroOutUint8Array(privatePackage.initPrivateKey); // only a welcome would use it
	return createGroup(groupIdFor(roomId), publicPackage, privatePackage, [], impl, clientConfig);
}

/**
 * Joins a room's group with the welcome the room passed on. `roomId` is the room it came through:
 * a welcome into another group is refused.
 */
export async function joinFromWelcome(
	device: Device,
	secrets: StoredKeyPackage[],
	welcomeWire: string,
	roomId: string
): Promise<GroupState> {
	const impl = await mlsSuite();
	const welcome = decodeWelcome(welcomeWire);
	const secret = await matchingSecret(secrets, welcome, impl);
	if (secret === null) {
		throw new Error(
			'The welcome was made for none of this device’s key packages (another device’s, or one already used).'
		);
	}
	const keyPackage = storedKeyPackage(secret);
	if (!constantTimeEqual(keyPackage.leafNode.signaturePublicKey, device.identityKey)) {
		throw new Error(`The key package the welcome names is not ${deviceName(device)}’s.`);
	}
	const initPrivateKey = decodeBase64(secret.initPrivateKey);
	let state: GroupState;
	try {
		state = await joinGroup(
			welcome,
			keyPackage,
			{
				initPrivateKey,
				hpkePrivateKey: decodeBase64(secret.hpkePrivateKey),
				signaturePrivateKey: device.signKey
			},
			emptyPskIndex,
			impl,
			undefined, // the tree comes in the welcome (ratchet_tree extension)
			undefined,
			clientConfig
		);
	} finally {
		zeroOutUint8Array(initPrivateKey);
	}
	if (encodeGroupId(state.groupContext.groupId) !== groupIdText(roomId)) {
		throw new Error('The welcome is for another room’s group.');
	}
	return state;
}

export function groupEpoch(state: GroupState): bigint {
	return state.groupContext.epoch;
}

type Leaf = Member & { leafIndex: number };

function leaves(tree: RatchetTree): Leaf[] {
	return tree.flatMap((node, nodeIndex) => {
		const device = node?.nodeType === 'leaf' ? credentialDevice(node.leaf.credential) : null;
		if (node?.nodeType !== 'leaf' || device === null) return [];
		const leafIndex = nodeToLeafIndex(toNodeIndex(nodeIndex));
		return [{ ...device, identityKey: node.leaf.signaturePublicKey, leafIndex }];
	});
}

function leafDevice(tree: RatchetTree, leafIndex: number): DeviceRef | null {
	const node = tree[leafToNodeIndex(toLeafIndex(leafIndex))];
	return node?.nodeType === 'leaf' ? credentialDevice(node.leaf.credential) : null;
}

export function groupMembers(state: GroupState): Member[] {
	return leaves(state.ratchetTree).map(({ userId, deviceId, identityKey }) => ({
		userId,
		deviceId,
		identityKey
	}));
}

/** The state as bytes, to keep between sessions: as secret as the state. */
export function saveGroup(state: GroupState): Uint8Array {
	return encodeGroupState(state);
}

export function loadGroup(bytes: Uint8Array): GroupState {
	let decoded: ReturnType<typeof decodeGroupState>;
	try {
		decoded = decodeGroupState(bytes, 0);
	} catch {
		decoded = undefined;
	}
	if (decoded === undefined || decoded[1] !== bytes.length) throw new Error('Not a saved group.');
	return { ...decoded[0], clientConfig };
}

// ---- commits ----

/**
 * A commit to send to the room (wire form) and the group as it will be once the room takes it.
 * Until then keep the state it was made from: if the room refuses the commit because another one
 * took the epoch, that state processes the other commit, and the change is made again from there.
 * When the room takes it, `commitAccepted` gives the new state.
 */
export type PendingCommit = { state: GroupState; commit: string };

// The secrets a commit consumed belong to the state it was made from, which stays in use until the
// room takes the commit; they are zeroed then.
const consumedByCommit = new WeakMap<PendingCommit, Uint8Array[]>();

function pending<Extra extends object>(
	result: CreateCommitResult,
	extra: Extra
): PendingCommit & Extra {
	const made = { ...extra, state: result.newState, commit: encodeMlsWire(result.commit) };
	consumedByCommit.set(made, result.consumed);
	return made;
}

/** The room took the commit: its state is now the group's, and the old epoch's secrets are zeroed. */
export function commitAccepted(made: PendingCommit): GroupState {
	for (const secret of consumedByCommit.get(made) ?? []) zeroOutUint8Array(secret);
	consumedByCommit.delete(made);
	return made.state;
}

export type KeyPackageProblem =
	| 'malformed'
	| 'wrong-ciphersuite'
	| 'bad-credential'
	| 'bad-signature'
	| 'expired'
	| 'already-member';

const KEY_PACKAGE_PROBLEMS: Record<KeyPackageProblem, string> = {
	malformed: 'is not an MLS key package',
	'wrong-ciphersuite': 'is for another ciphersuite',
	'bad-credential': 'does not name a device',
	'bad-signature': 'has an invalid signature',
	expired: 'is outside its lifetime',
	'already-member': 'is for a device already in the group, or named twice'
};

/** A key package given to `addDevices` that cannot be added: which one (0-based), and why. */
export class KeyPackageError extends Error {
	constructor(
		readonly index: number,
		readonly device: DeviceRef | null,
		readonly problem: KeyPackageProblem
	) {
		const which = device ? ` (${deviceName(device)})` : '';
		super(`Key package ${index + 1}${which} ${KEY_PACKAGE_PROBLEMS[problem]}.`);
		this.name = 'KeyPackageError';
	}
}

// ts-mls checks all of this again when it adds; checked first here so that a refusal says which.
async function checkedKeyPackage(
	wire: string,
	index: number,
	taken: DeviceRef[],
	impl: CiphersuiteImpl
): Promise<{ keyPackage: KeyPackage; device: DeviceRef }> {
	const message = decodeMlsWire(wire);
	if (message?.wireformat !== 'mls_key_package') {
		throw new KeyPackageError(index, null, 'malformed');
	}
	const { keyPackage } = message;
	const device = credentialDevice(keyPackage.leafNode.credential);
	const refuse = (problem: KeyPackageProblem) => new KeyPackageError(index, device, problem);
	if (keyPackage.cipherSuite !== impl.name) throw refuse('wrong-ciphersuite');
	if (device === null) throw refuse('bad-credential');
	if (!(await verifyKeyPackage(keyPackage, impl.signature))) throw refuse('bad-signature');
	const { leafNode } = keyPackage;
	const now = BigInt(Math.floor(Date.now() / 1000));
	if (
		leafNode.leafNodeSource === 'key_package' &&
		(leafNode.lifetime.notBefore > now || leafNode.lifetime.notAfter < now)
	) {
		throw refuse('expired');
	}
	if (taken.some((other) => sameDevice(other, device))) throw refuse('already-member');
	return { keyPackage, device };
}

/**
 * Adds devices by their published key packages: a commit for the room, and the welcome that lets
 * them join once the room took the commit. Throws a `KeyPackageError` naming the first bad one.
 */
export async function addDevices(
	state: GroupState,
	keyPackages: string[]
): Promise<PendingCommit & { welcome: string }> {
	if (keyPackages.length === 0) throw new Error('Adding devices needs at least one key package.');
	const impl = await mlsSuite();
	const taken: DeviceRef[] = leaves(state.ratchetTree);
	const proposals: Proposal[] = [];
	for (const [index, wire] of keyPackages.entries()) {
		const { keyPackage, device } = await checkedKeyPackage(wire, index, taken, impl);
		taken.push(device);
		proposals.push({ proposalType: 'add', add: { keyPackage } });
	}
	// The welcome carries the ratchet tree (ratchet_tree extension), so a joiner needs only it.
	const result = await createCommit(
		{ state, cipherSuite: impl },
		{ extraProposals: proposals, ratchetTreeExtension: true }
	);
	if (result.welcome === undefined) {
		throw new Error('ts-mls made no welcome for the added devices.');
	}
	const welcome = encodeMlsWire({
		version: 'mls10',
		wireformat: 'mls_welcome',
		welcome: result.welcome
	});
	return pending(result, { welcome });
}

/** Removes devices from the group (found by their credentials): a commit for the room. */
export async function removeDevices(
	state: GroupState,
	devices: DeviceRef[]
): Promise<PendingCommit> {
	if (devices.length === 0) throw new Error('Removing devices needs at least one device.');
	const members = leaves(state.ratchetTree);
	const ownLeaf = state.privatePath.leafIndex;
	const proposals: Proposal[] = devices.map((device) => {
		const leaf = members.find((member) => sameDevice(member, device));
		if (leaf === undefined) throw new Error(`${deviceName(device)} is not in the group.`);
		if (leaf.leafIndex === ownLeaf) throw new Error('A device cannot remove itself from a group.');
		return { proposalType: 'remove', remove: { removed: leaf.leafIndex } };
	});
	const impl = await mlsSuite();
	return pending(
		await createCommit({ state, cipherSuite: impl }, { extraProposals: proposals }),
		{}
	);
}

/**
 * A commit with no proposals: this device's keys in the group are renewed (its path in the tree
 * is new, which is MLS's post-compromise security) and the group moves to the next epoch. The
 * first device of a group sends one to claim the group's first epoch in the room, even with no
 * one else to add yet.
 */
export async function renewKeys(state: GroupState): Promise<PendingCommit> {
	return pending(await createCommit({ state, cipherSuite: await mlsSuite() }, {}), {});
}

// ---- messages ----

/** Encrypts an application message. Keep the state it returns even if the room refuses the frame. */
export async function encryptMessage(
	state: GroupState,
	plaintext: Uint8Array
): Promise<{ state: GroupState; ciphertext: string }> {
	const result = await createApplicationMessage(state, plaintext, await mlsSuite());
	result.consumed.forEach(zeroOutUint8Array);
	const ciphertext = encodeMlsWire({
		version: 'mls10',
		wireformat: 'mls_private_message',
		privateMessage: result.privateMessage
	});
	return { state: result.newState, ciphertext };
}

export type ReceiveFailure = 'wrong-epoch' | 'undecryptable' | 'malformed' | 'not-member';

/**
 * Why a frame could not be received; the state passed to `receive` is unchanged.
 * - `wrong-epoch`: a commit not made on this state's epoch (a stale one the room should have
 *   refused), or a message of an epoch this device has not reached or no longer keeps keys for.
 * - `undecryptable`: of this group and epoch, but its keys, signature or commit do not check out.
 * - `malformed`: not an MLS message of this group that Parley sends.
 * - `not-member`: this device was removed from the group.
 */
export class ReceiveError extends Error {
	constructor(
		readonly reason: ReceiveFailure,
		message: string
	) {
		super(message);
		this.name = 'ReceiveError';
	}
}

export type Received =
	| { kind: 'application'; state: GroupState; plaintext: Uint8Array; sender: DeviceRef }
	| {
			kind: 'commit';
			state: GroupState;
			/** The group's epoch after the commit. */
			epoch: bigint;
			sender: DeviceRef;
			added: DeviceRef[];
			removed: DeviceRef[];
			/** This device was removed: the state can read nothing more. */
			removedSelf: boolean;
	  };

function checkEpoch(state: GroupState, epoch: bigint, contentType: 'application' | 'commit') {
	const current = state.groupContext.epoch;
	if (epoch === current) return;
	if (contentType === 'application' && epoch < current && state.historicalReceiverData.has(epoch)) {
		return;
	}
	throw new ReceiveError('wrong-epoch', `A ${contentType} of epoch ${epoch} at epoch ${current}.`);
}

// ts-mls checks a message's signature against its sender's leaf but does not say which leaf that
// is; the sender data, decrypted again here with the same key, names it.
async function applicationSender(
	state: GroupState,
	message: PrivateMessage,
	impl: CiphersuiteImpl
): Promise<DeviceRef> {
	const epoch =
		message.epoch === state.groupContext.epoch
			? { senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree }
			: state.historicalReceiverData.get(message.epoch);
	const senderData = epoch && (await decryptSenderData(message, epoch.senderDataSecret, impl));
	const sender = epoch && senderData ? leafDevice(epoch.ratchetTree, senderData.leafIndex) : null;
	if (!sender) {
		throw new ReceiveError('undecryptable', 'The sender of a message is not in the group.');
	}
	return sender;
}

function proposalDevices(
	proposals: ProposalWithSender[],
	tree: RatchetTree
): { added: DeviceRef[]; removed: DeviceRef[] } {
	const added: DeviceRef[] = [];
	const removed: DeviceRef[] = [];
	for (const { proposal } of proposals) {
		const device =
			proposal.proposalType === 'add'
				? credentialDevice(proposal.add.keyPackage.leafNode.credential)
				: proposal.proposalType === 'remove'
					? leafDevice(tree, proposal.remove.removed)
					: null;
		if (device === null) continue;
		(proposal.proposalType === 'add' ? added : removed).push(device);
	}
	return { added, removed };
}

/**
 * Reads a frame of the room's group: an application message, or a commit that moves the group on.
 * Once it returns, the state passed in is spent (its used keys are zeroed): keep the new one.
 */
export async function receive(state: GroupState, wire: string): Promise<Received> {
	const message = decodeMlsWire(wire);
	if (message === null) throw new ReceiveError('malformed', 'Not an MLS message.');
	if (message.wireformat !== 'mls_private_message' && message.wireformat !== 'mls_public_message') {
		throw new ReceiveError('malformed', `An MLS ${message.wireformat} is not a group message.`);
	}
	if (state.groupActiveState.kind !== 'active') {
		throw new ReceiveError('not-member', 'This device is no longer in the group.');
	}
	const { groupId, epoch, contentType } =
		message.wireformat === 'mls_private_message'
			? message.privateMessage
			: message.publicMessage.content;
	if (!constantTimeEqual(groupId, state.groupContext.groupId)) {
		throw new ReceiveError('malformed', 'A message of another group.');
	}
	// Parley makes every change as a commit; application messages are always encrypted (RFC 9420).
	if (contentType === 'proposal') throw new ReceiveError('malformed', 'A standalone proposal.');
	if (contentType === 'application' && message.wireformat === 'mls_public_message') {
		throw new ReceiveError('malformed', 'An application message in the clear.');
	}
	checkEpoch(state, epoch, contentType);

	const impl = await mlsSuite();
	const seen: {
		commit?: { senderLeafIndex: number | undefined; proposals: ProposalWithSender[] };
	} = {};
	let result;
	try {
		result = await processMessage(
			message,
			state,
			emptyPskIndex,
			(incoming) => {
				if (incoming.kind === 'commit') seen.commit = incoming;
				return 'accept';
			},
			impl
		);
	} catch (error) {
		throw new ReceiveError(
			error instanceof CodecError ? 'malformed' : 'undecryptable',
			error instanceof Error ? error.message : 'The message could not be read.'
		);
	}

	if (result.kind === 'applicationMessage' && message.wireformat === 'mls_private_message') {
		const sender = await applicationSender(state, message.privateMessage, impl);
		result.consumed.forEach(zeroOutUint8Array);
		return { kind: 'application', state: result.newState, plaintext: result.message, sender };
	}
	const { commit } = seen;
	const sender =
		commit?.senderLeafIndex === undefined
			? null
			: leafDevice(state.ratchetTree, commit.senderLeafIndex);
	if (commit === undefined || sender === null) {
		throw new ReceiveError('undecryptable', 'A commit not made by a member of the group.');
	}
	result.consumed.forEach(zeroOutUint8Array);
	return {
		kind: 'commit',
		state: result.newState,
		epoch: epoch + 1n,
		sender,
		...proposalDevices(commit.proposals, state.ratchetTree),
		removedSelf: result.newState.groupActiveState.kind === 'removedFromGroup'
	};
}

// ---- what application messages carry ----

const Seq = v.pipe(v.number(), v.integer(), v.minValue(1));
const Base64 = (bytes: number) =>
	v.pipe(
		v.string(),
		v.length(Math.ceil(bytes / 3) * 4),
		v.regex(/^[A-Za-z0-9+/]+={0,2}$/),
		v.check((text) => decodeBase64(text).byteLength === bytes, `must be ${bytes} bytes`)
	);
/** A file's name inside an encrypted message is cut to this: the whole message has to fit a frame. */
export const MAX_SEALED_FILE_NAME = 255;
const Pixels = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535)));

/**
 * A file a message carries, as its sender's browser knew it: the id the server gave the
 * ciphertext, and what the server must not see (name, type, measurements, the key: file-secret.ts).
 */
const SealedFile = v.strictObject({
	id: FileId,
	name: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_SEALED_FILE_NAME)),
	type: v.pipe(v.string(), v.maxLength(255)),
	size: v.pipe(v.number(), v.integer(), v.minValue(1)),
	key: Base64(32),
	iv: Base64(12),
	width: Pixels,
	height: Pixels,
	placeholder: v.optional(v.pipe(v.string(), v.maxLength(100)))
});
export type SealedFile = v.InferOutput<typeof SealedFile>;
const SealedFiles = v.optional(
	v.pipe(v.array(SealedFile), v.minLength(1), v.maxLength(MAX_ATTACHMENTS))
);
/** The words of a message, which may be empty when it carries files (the caption is optional). */
const Caption = v.pipe(v.string(), v.maxLength(MAX_MESSAGE_LENGTH));

// An edit and a reaction name the message they are about: the room stores them on a message by
// its seq, and a server that moved one to another message would be caught (`EncryptedRoom`).
const Content = v.pipe(
	v.variant('kind', [
		v.strictObject({
			v: v.literal(1),
			kind: v.literal('message'),
			body: Caption,
			/** The seq of the message this one answers. */
			replyTo: v.optional(Seq),
			files: SealedFiles
		}),
		// An edit repeats the message's files: a device that first reads the message edited reads
		// only the edit (the room keeps the latest ciphertext).
		v.strictObject({
			v: v.literal(1),
			kind: v.literal('edit'),
			seq: Seq,
			body: Caption,
			files: SealedFiles
		}),
		v.strictObject({
			v: v.literal(1),
			kind: v.literal('reaction'),
			seq: Seq,
			emoji: v.pipe(v.string(), v.maxLength(MAX_EMOJI_LENGTH), v.check(isReactionEmoji))
		})
	]),
	v.check(
		(content) =>
			content.kind === 'reaction' || content.body.length > 0 || content.files !== undefined,
		'has neither words nor files'
	)
);
/** The plaintext of an application message (UTF-8 JSON). */
export type Content = v.InferOutput<typeof Content>;

export class ContentError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ContentError';
	}
}

function checkedContent(value: unknown): Content {
	const parsed = v.safeParse(Content, value);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const where = issue.path?.map((item) => String(item.key)).join('.') ?? 'content';
		throw new ContentError(`Not message content Parley knows (${where}: ${issue.message}).`);
	}
	return parsed.output;
}

export function encodeContent(content: Content): Uint8Array {
	return new TextEncoder().encode(JSON.stringify(checkedContent(content)));
}

export function decodeContent(bytes: Uint8Array): Content {
	let value: unknown;
	try {
		value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
	} catch {
		throw new ContentError('Message content is not UTF-8 JSON.');
	}
	return checkedContent(value);
}
