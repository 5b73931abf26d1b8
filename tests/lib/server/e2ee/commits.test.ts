// An encrypted room's commits and welcomes through the app: who may commit, whom a commit may
// welcome, and the room's answer in HTTP terms; also how the rest of the server treats an encrypted
// room (a direct conversation switched over, groups made encrypted, bots and the member cap).
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import {
	addDevices,
	createDevice,
	makeKeyPackages,
	startGroup,
	type Device
} from '$lib/client/e2ee/engine';
import { knock, submitCommit, welcomeFor } from '$lib/server/e2ee/commits';
import {
	DEFAULT_E2EE_MAX_MEMBERS as E2EE_MAX_MEMBERS,
	e2eeMaxMembers,
	encryptDirectRoom
} from '$lib/server/e2ee/rooms';
import { publishKeyPackages } from '$lib/server/e2ee/key-packages';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { createGroup } from '$lib/server/rooms/groups';
import { addMember, joinPublicRoom } from '$lib/server/rooms/members';
import { createBot } from '$lib/server/bots/bots';
import { realtimeOf } from '$lib/server/realtime/effects';
import { ErrorCode } from '$shared/protocol';
import { e2eeDevices, rooms } from '$shared/db/schema';
import { claimKeyPackages } from '$lib/server/e2ee/key-packages';
import { encodeBase64 } from '@oslojs/encoding';
import { addMembers, connect, db, roomStub, seedUser, type Person } from '../../../helpers';
import { befriend } from '../../../support/people';
import { addDevice, seedEncryptedRoom } from './support';

const rt = () => realtimeOf(env as unknown as Env);
const actor = (p: Person) => ({ id: p.id, displayName: p.name, username: p.username });

/** A registered device of `person` with `count` KeyPackages published, made by the engine. */
async function deviceOf(person: Person): Promise<{ device: Device; id: string }> {
	const registered = await addDevice(person);
	const device = await createDevice(person.id, registered.id);
	// The engine makes its own signature key; the directory's row must carry that one.
	await db()
		.update(e2eeDevices)
		.set({ identityKey: encodeBase64(device.identityKey) })
		.where(eq(e2eeDevices.id, registered.id));
	const made = await makeKeyPackages(device, 2);
	const published = await publishKeyPackages(db(), person.id, registered.id, {
		keyPackages: made.published
	});
	if (!published.ok) throw new Error(published.message);
	return { device, id: registered.id };
}

describe('commits through the app', () => {
	it('a member commits the group’s first change; a second commit from that epoch is a conflict', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const roomId = await seedEncryptedRoom(alice, bob);
		await roomStub(roomId).enableEncryption(roomId);
		const a = await deviceOf(alice);
		const b = await deviceOf(bob);
		const group = await startGroup(a.device, roomId);
		const kp = await claimKeyPackages(db(), alice.id, roomId, { devices: [b.id] });
		if (!kp.ok || !('keyPackages' in kp)) throw new Error('claim failed');
		const made = await addDevices(group, [kp.keyPackages[0]!.keyPackage!]);
		const input = {
			clientId: 'c1',
			epoch: 0,
			commit: made.commit,
			welcome: made.welcome,
			adds: [b.id]
		};
		const first = await submitCommit(db(), env.ROOMS, actor(alice), roomId, input);
		expect(first).toMatchObject({
			ok: true,
			duplicate: false,
			stored: { seq: 1, kind: 'handshake' }
		});
		// Bob's device finds its welcome; Alice's other device (none) and a stranger find nothing.
		expect(await welcomeFor(db(), env.ROOMS, bob.id, roomId, b.id)).toMatchObject({
			ok: true,
			epoch: 1,
			welcome: { seq: 1, welcome: made.welcome }
		});
		expect(await welcomeFor(db(), env.ROOMS, bob.id, roomId, a.id)).toMatchObject({
			ok: false,
			status: 404
		});
		const stranger = await seedUser('eve');
		expect(await welcomeFor(db(), env.ROOMS, stranger.id, roomId, b.id)).toMatchObject({
			ok: false
		});
		// Another commit from epoch 0 (a device that did not see the first): 409, stale_epoch.
		const late = await addDevices(await startGroup(a.device, roomId), [
			(await makeKeyPackages(b.device, 1)).published[0]!
		]);
		const stale = await submitCommit(db(), env.ROOMS, actor(bob), roomId, {
			clientId: 'c2',
			epoch: 0,
			commit: late.commit
		});
		expect(stale).toMatchObject({ ok: false, status: 409, code: ErrorCode.StaleEpoch });
	});

	it('refuses strangers, plain rooms, bad input, and welcomes for devices that are not the room’s', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const eve = await seedUser('eve');
		const roomId = await seedEncryptedRoom(alice, bob);
		await roomStub(roomId).enableEncryption(roomId);
		const a = await deviceOf(alice);
		const e = await deviceOf(eve);
		const made = await addDevices(await startGroup(a.device, roomId), [
			(await makeKeyPackages(e.device, 1)).published[0]!
		]);
		const input = { clientId: 'c', epoch: 0, commit: made.commit, welcome: made.welcome };
		// Eve's device is not a member's: no welcome may be left for it here.
		expect(
			await submitCommit(db(), env.ROOMS, actor(alice), roomId, { ...input, adds: [e.id] })
		).toMatchObject({ ok: false, status: 409, code: 'bad_target' });
		// To a stranger the room is not there at all, as for every room they may not read.
		expect(await submitCommit(db(), env.ROOMS, actor(eve), roomId, input)).toMatchObject({
			ok: false,
			status: 404
		});
		expect(
			await submitCommit(db(), env.ROOMS, actor(alice), roomId, { ...input, epoch: -1 })
		).toMatchObject({ ok: false, status: 400 });
		expect(
			await submitCommit(db(), env.ROOMS, actor(alice), roomId, {
				...input,
				adds: [a.id],
				welcome: undefined
			})
		).toMatchObject({ ok: false, status: 400 });
		const plain = await createGroup(db(), rt(), actor(alice), {
			name: 'Plain',
			description: '',
			memberIds: []
		});
		if (!plain.ok) throw new Error(plain.message);
		expect(await submitCommit(db(), env.ROOMS, actor(alice), plain.roomId, input)).toMatchObject({
			ok: false,
			status: 400
		});
		// Nothing was taken by any of these.
		expect(await roomStub(roomId).lastSeq()).toBe(0);
	});
});

describe('a device waiting to be let in', () => {
	it('asks the devices open in the room to look now; strangers and plain rooms may not, nor may anyone often', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const roomId = await seedEncryptedRoom(alice, bob);
		await roomStub(roomId).enableEncryption(roomId);
		const socket = await connect(roomId, alice, 0);
		expect(await knock(db(), env.ROOMS, bob.id, roomId)).toEqual({ ok: true });
		await socket.next('devices');
		const eve = await seedUser('eve');
		expect(await knock(db(), env.ROOMS, eve.id, roomId)).toMatchObject({ ok: false, status: 404 });
		const plain = await createGroup(db(), rt(), actor(alice), {
			name: 'Plain',
			description: '',
			memberIds: []
		});
		if (!plain.ok) throw new Error(plain.message);
		expect(await knock(db(), env.ROOMS, alice.id, plain.roomId)).toMatchObject({
			ok: false,
			status: 400
		});
		// A very eager device: after its share of asks, it waits.
		const results = [];
		for (let i = 0; i < 25; i++) results.push(await knock(db(), env.ROOMS, bob.id, roomId));
		expect(results.filter((r) => !r.ok)).not.toHaveLength(0);
		expect(results.find((r) => !r.ok)).toMatchObject({ status: 429, code: 'rate_limited' });
	});
});

describe('encrypted rooms on the server', () => {
	it('a group made encrypted takes no word in the clear, nor a bot', async () => {
		const alice = await seedUser('alice');
		const made = await createGroup(db(), rt(), actor(alice), {
			name: 'Secret',
			description: '',
			memberIds: [],
			encrypted: true
		});
		if (!made.ok) throw new Error(made.message);
		const [row] = await db().select().from(rooms).where(eq(rooms.id, made.roomId));
		expect(row?.encryption).toBe('mls');
		const result = await roomStub(made.roomId).change(
			made.roomId,
			{ userId: alice.id, name: alice.name, username: alice.username, role: 'owner' },
			{ type: 'send', clientId: 'x', body: 'in the clear' }
		);
		expect(result).toMatchObject({ ok: false, code: ErrorCode.Encryption });
		expect(await createBot(db(), rt(), actor(alice), made.roomId, 'Helper')).toMatchObject({
			ok: false,
			code: 'bot'
		});
	});

	it('either person turns a direct conversation to encryption, once; a group cannot be switched', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		await befriend(alice, bob);
		const direct = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!direct.ok) throw new Error(direct.message);
		const { roomId } = direct;
		const before = await roomStub(roomId).change(
			roomId,
			{ userId: bob.id, name: bob.name, username: bob.username, role: 'member' },
			{ type: 'send', clientId: 'p', body: 'said before' }
		);
		expect(before.ok).toBe(true);
		expect(await encryptDirectRoom(db(), rt(), actor(bob), roomId)).toEqual({ ok: true });
		expect(await encryptDirectRoom(db(), rt(), actor(alice), roomId)).toEqual({ ok: true });
		const after = await roomStub(roomId).change(
			roomId,
			{ userId: alice.id, name: alice.name, username: alice.username, role: 'member' },
			{ type: 'send', clientId: 'q', body: 'in the clear' }
		);
		expect(after).toMatchObject({ ok: false, code: ErrorCode.Encryption });
		// One line in the timeline says when it started; the message before it stays as it was.
		const page = await roomStub(roomId).unflushed({ after: 0, limit: 10 });
		expect(page.map((m) => [m.kind, m.body])).toEqual([
			['text', 'said before'],
			['system', 'Bob turned on end-to-end encryption']
		]);
		const eve = await seedUser('eve');
		expect(await encryptDirectRoom(db(), rt(), actor(eve), roomId)).toMatchObject({ ok: false });
		const group = await createGroup(db(), rt(), actor(alice), {
			name: 'G',
			description: '',
			memberIds: []
		});
		if (!group.ok) throw new Error(group.message);
		expect(await encryptDirectRoom(db(), rt(), actor(alice), group.roomId)).toMatchObject({
			ok: false,
			status: 400
		});
	});

	it(`holds at most ${E2EE_MAX_MEMBERS} people`, async () => {
		const alice = await seedUser('alice');
		const roomId = await seedEncryptedRoom(alice);
		await addMembers(roomId, E2EE_MAX_MEMBERS - 1);
		await db()
			.update(rooms)
			.set({ memberCount: E2EE_MAX_MEMBERS, kind: 'public' })
			.where(eq(rooms.id, roomId));
		const late = await seedUser('late');
		expect(await joinPublicRoom(db(), { id: late.id }, roomId)).toMatchObject({
			ok: false,
			code: 'too_many'
		});
		const friend = await seedUser('friend');
		await befriend(alice, friend);
		await db().update(rooms).set({ kind: 'group' }).where(eq(rooms.id, roomId));
		expect(await addMember(db(), rt(), actor(alice), roomId, friend.username)).toMatchObject({
			ok: false,
			code: 'too_many'
		});
	});

	it('holds at most what the deployment configures, at creation and after', async () => {
		expect(e2eeMaxMembers({ E2EE_MAX_MEMBERS: 3 } as never)).toBe(3);
		expect(e2eeMaxMembers({ E2EE_MAX_MEMBERS: '5' } as never)).toBe(5);
		for (const bad of ['', 'ten', 0, -1, 2.5]) {
			expect(e2eeMaxMembers({ E2EE_MAX_MEMBERS: bad } as never)).toBe(E2EE_MAX_MEMBERS);
		}
		const alice = await seedUser('alice');
		const friends = await Promise.all(['bo', 'cy', 'di'].map((name) => seedUser(name)));
		for (const friend of friends) await befriend(alice, friend);
		const ids = friends.map((f) => f.id);
		const made = (memberIds: string[], encrypted: boolean) =>
			createGroup(
				db(),
				rt(),
				actor(alice),
				{ name: 'Trio', description: '', memberIds, encrypted },
				3
			);
		// Four people do not fit an encrypted group of at most three; a plain group is not limited.
		expect(await made(ids, true)).toMatchObject({ ok: false, code: 'too_many' });
		expect(await made(ids, false)).toMatchObject({ ok: true });
		const trio = await made(ids.slice(0, 2), true);
		if (!trio.ok) throw new Error('not made');
		expect(
			await addMember(db(), rt(), actor(alice), trio.roomId, friends[2]!.username, 3)
		).toMatchObject({ ok: false, code: 'too_many', message: expect.stringContaining('at most 3') });
		expect(
			await addMember(db(), rt(), actor(alice), trio.roomId, friends[2]!.username, 4)
		).toMatchObject({ ok: true });
	});
});
