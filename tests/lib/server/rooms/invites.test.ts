import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { roomInvites } from '$shared/db/schema';
import { hashSecret } from '$lib/server/ids';
import {
	createInvite,
	inspectInvite,
	listInvites,
	redeemInvite,
	revokeInvite
} from '$lib/server/rooms/invites';
import { banMember, listMembers } from '$lib/server/rooms/members';
import { db, seedRoom } from '../../../helpers';
import { rt, seedPerson } from '../../../support/people';

async function invite(
	owner: { id: string },
	roomId: string,
	options: Parameters<typeof createInvite>[3] = { lifetime: '1d', maxUses: null }
) {
	const created = await createInvite(db(), owner, roomId, options);
	if (!created.ok) throw new Error(created.message);
	return created.code;
}

async function members(roomId: string) {
	return (await listMembers(db(), roomId)).map((m) => m.id);
}

describe('invite links', () => {
	it('a link lets someone join the group once; following it again just arrives', async () => {
		const alice = await seedPerson('alice');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice);
		const code = await invite(alice, room);

		expect(await redeemInvite(db(), rt(), carol, code)).toEqual({ ok: true, roomId: room });
		expect(await redeemInvite(db(), rt(), carol, code)).toEqual({ ok: true, roomId: room });
		expect(await members(room)).toContain(carol.id);
		const [listed] = await listInvites(db(), room);
		expect(listed).toMatchObject({ uses: 1, state: 'active' });
		// Only the hash is stored.
		const rows = await db().select().from(roomInvites).where(eq(roomInvites.roomId, room));
		expect(rows.map((r) => r.id)).toEqual([hashSecret(code)]);
	});

	it('a link limited to two uses admits two people, even when three click at once', async () => {
		const alice = await seedPerson('alice');
		const people = await Promise.all(['bob', 'carol', 'dave'].map(seedPerson));
		const room = await seedRoom(alice);
		const code = await invite(alice, room, { lifetime: 'never', maxUses: 2 });

		const results = await Promise.all(people.map((p) => redeemInvite(db(), rt(), p, code)));
		expect(results.filter((r) => r.ok)).toHaveLength(2);
		expect(results.filter((r) => !r.ok)).toEqual([
			expect.objectContaining({ status: 410, code: 'invite_used_up' })
		]);
		expect(await members(room)).toHaveLength(3);
	});

	it('expired, revoked and unknown links are refused with a clear reason and change nothing', async () => {
		const alice = await seedPerson('alice');
		const carol = await seedPerson('carol');
		const room = await seedRoom(alice);
		const expired = await invite(alice, room, { lifetime: '1h', maxUses: null });
		await db()
			.update(roomInvites)
			.set({ expiresAt: Date.now() - 1 })
			.where(eq(roomInvites.id, hashSecret(expired)));
		const revoked = await invite(alice, room);
		expect(await revokeInvite(db(), alice, room, hashSecret(revoked))).toEqual({ ok: true });
		expect(await revokeInvite(db(), alice, room, hashSecret(revoked))).toMatchObject({
			status: 404
		});

		expect(await redeemInvite(db(), rt(), carol, expired)).toMatchObject({
			status: 410,
			code: 'invite_expired'
		});
		expect(await redeemInvite(db(), rt(), carol, revoked)).toMatchObject({
			status: 410,
			code: 'invite_revoked'
		});
		expect(await inspectInvite(db(), 'made-up-code')).toMatchObject({
			status: 404,
			code: 'invite_invalid'
		});
		expect(await members(room)).toEqual([alice.id]);
		const uses = await db().select().from(roomInvites).where(eq(roomInvites.roomId, room));
		expect(uses.map((u) => u.uses)).toEqual([0, 0]);
	});

	it('a banned person cannot come back through a link', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		await banMember(db(), rt(), alice, room, bob.id);
		const code = await invite(alice, room);
		expect(await redeemInvite(db(), rt(), bob, code)).toMatchObject({
			status: 403,
			code: 'banned'
		});
		expect(await members(room)).toEqual([alice.id]);
	});

	it('only admins create and revoke links', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		expect(await createInvite(db(), bob, room, { lifetime: '1d', maxUses: null })).toMatchObject({
			status: 403
		});
		const code = await invite(alice, room);
		expect(await revokeInvite(db(), bob, room, hashSecret(code))).toMatchObject({ status: 403 });
	});
});
