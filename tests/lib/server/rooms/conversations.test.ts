import { describe, expect, it } from 'vitest';
import { listPublicRooms } from '$lib/server/rooms/directory';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { createGroup } from '$lib/server/rooms/groups';
import { readHistory } from '$lib/server/rooms/history';
import { joinPublicRoom, listMembers } from '$lib/server/rooms/members';
import { updateMemberSettings } from '$lib/server/rooms/settings';
import { createRoom, listConversations } from '$lib/server/rooms/rooms';
import { db, roomStub } from '../../../helpers';
import { befriend, rt, seedPerson } from '../../../support/people';

describe('group chats', () => {
	it('are created with friends as members and say so in the timeline', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const carol = await seedPerson('carol');
		await befriend(alice, bob);
		await befriend(alice, carol);

		const created = await createGroup(db(), rt(), alice, {
			name: 'Trip',
			description: 'Planning',
			memberIds: [bob.id, carol.id]
		});
		if (!created.ok) throw new Error(created.message);
		const members = await listMembers(db(), created.roomId);
		expect(members.map((m) => [m.displayName, m.role])).toEqual([
			['Alice', 'owner'],
			['Bob', 'member'],
			['Carol', 'member']
		]);
		const history = await readHistory(db(), roomStub(created.roomId), created.roomId, {});
		expect(history.messages.map((m) => m.body)).toEqual([
			'Alice created the group',
			'Alice added Bob',
			'Alice added Carol'
		]);
	});

	it('refuses to add people who are not friends, creating nothing', async () => {
		const alice = await seedPerson('alice');
		const stranger = await seedPerson('sam');
		const before = (await listConversations(db(), alice.id)).length;
		expect(
			await createGroup(db(), rt(), alice, {
				name: 'Nope',
				description: '',
				memberIds: [stranger.id]
			})
		).toMatchObject({ ok: false, status: 403, code: 'not_friends' });
		expect(await listConversations(db(), alice.id)).toHaveLength(before);
	});
});

describe('the directory of public rooms', () => {
	it('lists public rooms only, biggest first, searchable, marking the ones I joined', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const tag = Date.now().toString(36);
		const big = await createRoom(db(), {
			kind: 'public',
			name: `Hikers ${tag}`,
			createdBy: alice.id
		});
		const small = await createRoom(db(), {
			kind: 'public',
			name: `hiking gear ${tag}`,
			createdBy: alice.id
		});
		await createRoom(db(), { kind: 'group', name: `Hidden ${tag}`, createdBy: alice.id });
		await joinPublicRoom(db(), bob, big.id);

		const found = await listPublicRooms(db(), bob.id, `HIK`);
		const mine = found.filter((r) => r.name.endsWith(tag));
		expect(mine.map((r) => [r.id, r.memberCount, r.joined])).toEqual([
			[big.id, 2, true],
			[small.id, 1, false]
		]);
		expect((await listPublicRooms(db(), bob.id, `Hidden ${tag}`)).length).toBe(0);
	});
});

describe('the conversation list', () => {
	it('puts pinned rooms first, flags archived ones, and names direct rooms after the other person', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		await befriend(alice, bob);
		const older = await createRoom(db(), { kind: 'group', name: 'Older', createdBy: alice.id });
		const dm = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!dm.ok) throw new Error('expected a room');
		const newer = await createRoom(db(), { kind: 'public', name: 'Newer', createdBy: alice.id });

		expect(
			await updateMemberSettings(db(), rt(), alice, older.id, {
				notify: 'mentions',
				pinned: true,
				archived: false
			})
		).toEqual({ ok: true });
		await updateMemberSettings(db(), rt(), alice, newer.id, {
			notify: 'mute',
			pinned: false,
			archived: true
		});

		const rows = await listConversations(db(), alice.id);
		expect(rows.map((r) => [r.name, r.pinned, r.archived, r.notify])).toEqual([
			['Older', true, false, 'mentions'],
			['Bob', false, false, 'all'],
			// Muted: below the others, though more recent.
			['Newer', false, true, 'mute']
		]);
		expect(rows[1]!.peer).toMatchObject({ id: bob.id, displayName: 'Bob' });
		expect(
			await updateMemberSettings(db(), rt(), bob, older.id, {
				notify: 'all',
				pinned: true,
				archived: false
			})
		).toMatchObject({ ok: false, status: 404 });
	});
});
