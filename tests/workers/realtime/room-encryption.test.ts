// An end-to-end encrypted room as the MLS delivery service (docs/e2ee.md): it takes only its
// group's ciphertext, and its commits in one order, one per epoch, however many race for it.
// Real MLS messages throughout, made with ts-mls as members' browsers make them.
import { describe, expect, it } from 'vitest';
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { decodeBase64, encodeBase64 } from '@oslojs/encoding';
// ts-mls by module path, as shared/e2ee/mls.ts says why.
import { createApplicationMessage } from 'ts-mls/createMessage.js';
import { createCommit } from 'ts-mls/createCommit.js';
import { createGroup, joinGroup, type ClientState } from 'ts-mls/clientState.js';
import { decodeMlsMessage, encodeMlsMessage } from 'ts-mls/message.js';
import { defaultCapabilities } from 'ts-mls/defaultCapabilities.js';
import { defaultLifetime } from 'ts-mls/lifetime.js';
import { emptyPskIndex } from 'ts-mls/pskIndex.js';
import { generateKeyPackage, type KeyPackage, type PrivateKeyPackage } from 'ts-mls/keyPackage.js';
import { processPrivateMessage } from 'ts-mls/processMessages.js';
import type { CiphersuiteImpl } from 'ts-mls/crypto/ciphersuite.js';
import { ErrorCode, type ChatMessage } from '$shared/protocol';
import { groupIdFor, mlsSuite } from '$shared/e2ee/mls';
import { files, messages, notifications, rooms } from '$shared/db/schema';
import { SEALED_PREVIEW } from '$shared/preview';
import { newFileSecret } from '$lib/client/e2ee/file-secret';
import { openFile, sealFile } from '$lib/client/e2ee/file-cipher';
import { connect, db, roomStub, seedRoom, seedUser, type Person } from '../../helpers';
import { FileClient, PNG } from '../../lib/server/files/support';

const encoder = new TextEncoder();
const mls = (): Promise<CiphersuiteImpl> => mlsSuite();

type Device = { id: string; publicPackage: KeyPackage; privatePackage: PrivateKeyPackage };

async function device(person: Person, id: string): Promise<Device> {
	const credential = {
		credentialType: 'basic' as const,
		identity: encoder.encode(`${person.id}/${id}`)
	};
	const made = await generateKeyPackage(
		credential,
		defaultCapabilities(),
		defaultLifetime,
		[],
		await mls()
	);
	return { id, ...made };
}

const wire = (message: Parameters<typeof encodeMlsMessage>[0]) =>
	encodeBase64(encodeMlsMessage(message));

/** A commit from `state` adding `devices` (none: an empty commit, which only moves the epoch). */
async function commitAdding(state: ClientState, devices: Device[] = []) {
	const made = await createCommit(
		{ state, cipherSuite: await mls() },
		{
			extraProposals: devices.map((d) => ({
				proposalType: 'add' as const,
				add: { keyPackage: d.publicPackage }
			})),
			ratchetTreeExtension: true
		}
	);
	return {
		state: made.newState,
		commit: wire(made.commit),
		welcome: made.welcome
			? wire({ welcome: made.welcome, wireformat: 'mls_welcome', version: 'mls10' })
			: undefined
	};
}

async function seal(state: ClientState, text: string) {
	const made = await createApplicationMessage(state, encoder.encode(text), await mls());
	return {
		state: made.newState,
		body: wire({
			privateMessage: made.privateMessage,
			wireformat: 'mls_private_message',
			version: 'mls10'
		})
	};
}

async function open(state: ClientState, body: string) {
	const decoded = decodeMlsMessage(decodeBase64(body), 0)![0];
	if (decoded.wireformat !== 'mls_private_message') throw new Error('not a private message');
	const result = await processPrivateMessage(
		state,
		decoded.privateMessage,
		emptyPskIndex,
		await mls()
	);
	return result;
}

/** Alice's encrypted room with Bob in it, his device welcomed by the first commit. */
async function encryptedRoom() {
	const alice = await seedUser('alice');
	const bob = await seedUser('bob');
	const roomId = await seedRoom(alice, bob);
	const room = roomStub(roomId);
	await room.enableEncryption(roomId);
	const aliceDevice = await device(alice, 'a1');
	const bobDevice = await device(bob, 'b1');
	let aliceState = await createGroup(
		groupIdFor(roomId),
		aliceDevice.publicPackage,
		aliceDevice.privatePackage,
		[],
		await mls()
	);
	const first = await commitAdding(aliceState, [bobDevice]);
	aliceState = first.state;
	const result = await room.commit(roomId, as(alice), {
		clientId: 'c0',
		epoch: 0,
		commit: first.commit,
		welcome: first.welcome,
		adds: [bobDevice.id]
	});
	expect(result).toMatchObject({
		ok: true,
		duplicate: false,
		stored: { seq: 1, kind: 'handshake' }
	});
	const { welcome: waiting, epoch } = await room.welcomeFor(bobDevice.id);
	expect(waiting?.seq).toBe(1);
	expect(epoch).toBe(1);
	const decoded = decodeMlsMessage(decodeBase64(waiting!.welcome), 0)![0];
	if (decoded.wireformat !== 'mls_welcome') throw new Error('not a welcome');
	const bobState = await joinGroup(
		decoded.welcome,
		bobDevice.publicPackage,
		bobDevice.privatePackage,
		emptyPskIndex,
		await mls()
	);
	return { alice, bob, roomId, room, aliceState, bobState };
}

/** A member as the app names them to the room. */
function as(person: Person) {
	return {
		userId: person.id,
		name: person.name,
		username: person.username,
		role: 'member' as const
	};
}

describe('an end-to-end encrypted room', () => {
	it('takes a member’s ciphertext, relays it unread, and the other member decrypts it', async () => {
		const { alice, roomId, aliceState, bobState } = await encryptedRoom();
		const socket = await connect(roomId, alice, 1);
		const sealed = await seal(aliceState, 'meet at the old mill');
		socket.send({ type: 'send', clientId: 'm1', body: sealed.body });
		expect((await socket.next('ack', (f) => f.clientId === 'm1')).seq).toBe(2);
		const heard = (await socket.next('message', (f) => f.message.seq === 2)).message;
		expect(heard).toMatchObject({ kind: 'sealed', body: sealed.body });
		const opened = await open(bobState, heard.body);
		expect(opened.kind).toBe('applicationMessage');
		if (opened.kind === 'applicationMessage') {
			expect(new TextDecoder().decode(opened.message)).toBe('meet at the old mill');
		}
	});

	it('refuses words in the clear, another group’s ciphertext, replies and stray commits, storing nothing', async () => {
		const { alice, roomId, room, aliceState } = await encryptedRoom();
		const socket = await connect(roomId, alice, 1);
		const other = await encryptedRoom();
		const foreign = await seal(other.aliceState, 'not for this room');
		const own = await seal(aliceState, 'fine');
		const tries: { clientId: string; body: string; replyTo?: number; attachments?: string[] }[] = [
			{ clientId: 'plain', body: 'hello in the clear' },
			{ clientId: 'b64', body: btoa('looks like base64 but is not MLS') },
			{ clientId: 'foreign', body: foreign.body },
			{ clientId: 'commit', body: (await commitAdding(aliceState)).commit },
			{ clientId: 'reply', body: own.body, replyTo: 1 }
		];
		for (const frame of tries) {
			socket.send({ type: 'send', ...frame });
			const refused = await socket.next('error', (f) => f.clientId === frame.clientId);
			expect(refused.code, frame.clientId).toBe(ErrorCode.Encryption);
		}
		// Through the app (the API) too: the same judgement.
		const api = await room.change(roomId, as(alice), {
			type: 'send',
			clientId: 'api',
			body: 'hello from a script'
		});
		expect(api).toMatchObject({ ok: false, code: ErrorCode.Encryption });
		expect(await room.lastSeq()).toBe(1);
		// A plain emoji reaction and an edit in the clear are refused as well.
		socket.send({ type: 'react', seq: 1, emoji: '👍', on: true });
		expect((await socket.next('error', (f) => f.seq === 1)).code).toBe(ErrorCode.Encryption);
	});

	it('carries files its members encrypted: the server keeps bytes it cannot read under no name, and the other member opens them', async () => {
		const { alice, bob, roomId, aliceState, bobState } = await encryptedRoom();
		await db().update(rooms).set({ encryption: 'mls' }).where(eq(rooms.id, roomId));
		const socket = await connect(roomId, alice, 1);
		// Alice's browser: a key for the file, the file encrypted, uploaded with its real name and
		// measurements (an older client might send them): the server keeps none of them.
		const secret = newFileSecret();
		const picture = new Blob([PNG], { type: 'image/png' });
		const sealed = new Uint8Array(await (await sealFile(picture, secret)).arrayBuffer());
		const uploaded = await (
			await FileClient.as(alice)
		).stored(roomId, sealed, 'holiday-in-lisbon.png', {
			headers: { 'x-file-width': '64', 'x-file-height': '48', 'x-file-placeholder': 'AAAA' }
		});
		expect(uploaded).toMatchObject({
			name: 'encrypted',
			type: 'application/octet-stream',
			kind: 'document',
			size: PNG.byteLength + 16,
			width: null,
			height: null,
			placeholder: null
		});
		// The name, type and key go inside the message, which names the file by its id.
		const content = JSON.stringify({ file: uploaded.id, name: 'holiday-in-lisbon.png', ...secret });
		const message = await seal(aliceState, content);
		socket.send({ type: 'send', clientId: 'f1', body: message.body, attachments: [uploaded.id] });
		expect((await socket.next('ack', (f) => f.clientId === 'f1')).seq).toBe(2);
		const heard = (await socket.next('message', (f) => f.message.seq === 2)).message;
		expect(heard.attachments).toEqual([
			{
				id: uploaded.id,
				name: 'encrypted',
				type: 'application/octet-stream',
				kind: 'document',
				size: PNG.byteLength + 16
			}
		]);
		// Bob reads the message, fetches the bytes as anyone allowed would, and opens them.
		const opened = await open(bobState, heard.body);
		if (opened.kind !== 'applicationMessage') throw new Error('not a message');
		const told = JSON.parse(new TextDecoder().decode(opened.message)) as typeof secret;
		const fetched = await (await FileClient.as(bob)).download(uploaded.url);
		expect(fetched.status).toBe(200);
		const bytes = await fetched.arrayBuffer();
		expect(new Uint8Array(bytes)).toEqual(sealed);
		const file = await openFile(bytes, told, 'image/png');
		expect(file.type).toBe('image/png');
		expect(new Uint8Array(await file.arrayBuffer())).toEqual(PNG);
		// A byte changed on the way (or in storage) is refused, not shown.
		const tampered = new Uint8Array(bytes.slice(0));
		tampered[0]! ^= 1;
		await expect(openFile(tampered.buffer, told, 'image/png')).rejects.toThrow();
		// What D1 keeps says nothing of the file, and a sender-named type that a browser would run
		// is opened as bytes to download.
		const [row] = await db().select().from(files).where(eq(files.id, uploaded.id));
		expect(row).toMatchObject({ name: 'encrypted', width: null, placeholder: null });
		expect((await openFile(bytes, told, 'text/html')).type).toBe('application/octet-stream');
	});

	it('takes exactly one of many commits racing from the same epoch; the others hear stale_epoch and win after catching up', async () => {
		const { alice, bob, roomId, room, aliceState, bobState } = await encryptedRoom();
		// Ten commits from epoch 1 at once, from both members (a very fast pair of devices).
		const racers = await Promise.all(
			Array.from({ length: 10 }, (_, i) => commitAdding(i % 2 ? bobState : aliceState))
		);
		const results = await Promise.all(
			racers.map((made, i) =>
				room.commit(roomId, as(i % 2 ? bob : alice), {
					clientId: `race-${i}`,
					epoch: 1,
					commit: made.commit
				})
			)
		);
		const winners = results.filter((r) => r.ok);
		expect(winners).toHaveLength(1);
		for (const lost of results.filter((r) => !r.ok)) {
			expect(lost).toMatchObject({ code: ErrorCode.StaleEpoch });
		}
		expect(await room.lastSeq()).toBe(2);
		// A loser applies the winner's commit (it is in the timeline), commits again from epoch 2.
		const winnerIndex = results.findIndex((r) => r.ok);
		const loserIndex = winnerIndex === 0 ? 1 : 0;
		const loserState = loserIndex % 2 ? bobState : aliceState;
		const winning = (winners[0] as { stored: ChatMessage }).stored;
		const caughtUp = await open(loserState, winning.body);
		expect(caughtUp.kind).toBe('newState');
		const again = await commitAdding(caughtUp.newState);
		const retried = await room.commit(roomId, as(loserIndex % 2 ? bob : alice), {
			clientId: `retry`,
			epoch: 2,
			commit: again.commit
		});
		expect(retried).toMatchObject({ ok: true, stored: { seq: 3, kind: 'handshake' } });
		// A resend of a commit taken before answers the same seq, and moves nothing.
		const resent = await room.commit(roomId, as(loserIndex % 2 ? bob : alice), {
			clientId: `retry`,
			epoch: 2,
			commit: again.commit
		});
		expect(resent).toMatchObject({ ok: true, duplicate: true, stored: { seq: 3 } });
	});

	it('keeps its epoch across a restart, and its commits reach D1 with the messages, none in the clear', async () => {
		const { alice, roomId, room, aliceState } = await encryptedRoom();
		const socket = await connect(roomId, alice, 1);
		const sealed = await seal(aliceState, 'the secret is 4211');
		socket.send({ type: 'send', clientId: 's1', body: sealed.body });
		await socket.next('ack', (f) => f.clientId === 's1');
		socket.close();
		await evictDurableObject(room);
		// After the restart a commit from epoch 0 is stale, and plain words are still refused.
		const stale = await commitAdding(aliceState);
		expect(
			await room.commit(roomId, as(alice), { clientId: 'old', epoch: 0, commit: stale.commit })
		).toMatchObject({ ok: false });
		expect(
			await room.change(roomId, as(alice), { type: 'send', clientId: 'p', body: 'plain' })
		).toMatchObject({ ok: false, code: ErrorCode.Encryption });
		await runDurableObjectAlarm(room);
		const rows = await db().select().from(messages).where(eq(messages.roomId, roomId));
		expect(rows.map((r) => [r.seq, r.kind])).toEqual([
			[1, 'handshake'],
			[2, 'sealed']
		]);
		expect(JSON.stringify(rows)).not.toContain('4211');
	});

	it('keeps the mentions the sender’s browser found, takes sealed edits and reactions, and tells the inbox nothing of the words', async () => {
		const { alice, bob, roomId, room, aliceState, bobState } = await encryptedRoom();
		const socket = await connect(roomId, alice, 1);
		const first = await seal(aliceState, '@bob the code is 7731');
		socket.send({ type: 'send', clientId: 'm', body: first.body, mentions: [bob.id, bob.id] });
		await socket.next('ack', (f) => f.clientId === 'm');
		expect((await socket.next('message', (f) => f.message.seq === 2)).message.mentions).toEqual([
			bob.id
		]);
		// Bob reacts with an encrypted emoji; Alice edits with an encrypted body; nobody else may.
		const reaction = await seal(bobState, '👍');
		const bobSays = await room.change(roomId, as(bob), {
			type: 'react',
			seq: 2,
			emoji: reaction.body,
			on: true
		});
		expect(bobSays).toMatchObject({
			ok: true,
			stored: { reactions: { [reaction.body]: [bob.id] } }
		});
		const edit = await seal(first.state, '@bob the code is 7732');
		expect(
			await room.change(roomId, as(bob), { type: 'edit', seq: 2, body: reaction.body })
		).toMatchObject({ ok: false, code: ErrorCode.Forbidden });
		expect(
			await room.change(roomId, as(alice), { type: 'edit', seq: 2, body: 'plain again' })
		).toMatchObject({ ok: false, code: ErrorCode.Encryption });
		expect(
			await room.change(roomId, as(alice), { type: 'edit', seq: 2, body: edit.body })
		).toMatchObject({ ok: true, stored: { body: edit.body, mentions: [bob.id] } });
		// Taken back by the same ciphertext.
		expect(
			await room.change(roomId, as(bob), { type: 'react', seq: 2, emoji: reaction.body, on: false })
		).toMatchObject({ ok: true, stored: { seq: 2 } });
		expect(await room.lastSeq()).toBe(2);
		await runDurableObjectAlarm(room);
		const items = await db().select().from(notifications).where(eq(notifications.roomId, roomId));
		expect(items.map((i) => [i.userId, i.kind, i.preview])).toEqual([
			[bob.id, 'mention', SEALED_PREVIEW]
		]);
		const [row] = await db().select().from(rooms).where(eq(rooms.id, roomId));
		expect(row?.lastMessagePreview).toBe(SEALED_PREVIEW);
		expect(JSON.stringify({ items, row })).not.toMatch(/773[12]/);
	});

	it('learns it is encrypted from the door, even if it missed being told', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const socket = await connect(roomId, alice, 0, { encrypted: true });
		socket.send({ type: 'send', clientId: 'x', body: 'in the clear' });
		expect((await socket.next('error', (f) => f.clientId === 'x')).code).toBe(ErrorCode.Encryption);
	});

	it('a plain room is unchanged: ciphertext-shaped words are words, and it takes no commit', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const room = roomStub(roomId);
		const socket = await connect(roomId, alice, 0);
		socket.send({ type: 'send', clientId: 'w', body: 'AAAA' });
		expect((await socket.next('ack', (f) => f.clientId === 'w')).seq).toBe(1);
		socket.send({ type: 'send', clientId: 'm', body: 'hi', mentions: [alice.id] });
		expect((await socket.next('error', (f) => f.clientId === 'm')).code).toBe(ErrorCode.BadFrame);
		const made = await encryptedRoom();
		const commit = (await commitAdding(made.aliceState)).commit;
		expect(await room.commit(roomId, as(alice), { clientId: 'c', epoch: 0, commit })).toMatchObject(
			{ ok: false, code: ErrorCode.Encryption }
		);
		expect(await room.lastSeq()).toBe(1);
	});
});
