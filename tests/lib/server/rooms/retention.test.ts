// Setting how long a room's messages live: a group's owner and admins, either person in a direct
// conversation; announced in the timeline; a group's change audited; nothing else changes it.
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { auditLog, rooms } from '$shared/db/schema';
import { parseRetention, setRetention } from '$lib/server/rooms/retention';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { connect, db, seedRoom } from '../../../helpers';
import { befriend, rt, seedPerson, setRole } from '../../../support/people';

type Who = Awaited<ReturnType<typeof seedPerson>>;
const actor = (who: Who) => ({ id: who.id, displayName: who.displayName, username: who.username });

async function retentionOf(roomId: string) {
	const [room] = await db().select().from(rooms).where(eq(rooms.id, roomId));
	return room!.retentionSeconds;
}

describe('room retention', () => {
	it('is set by a group’s owner or admin, announced and audited; refused to others', async () => {
		const [olga, ada, mo, sam] = await Promise.all(
			['olga', 'ada', 'mo', 'sam'].map((n) => seedPerson(n))
		);
		const roomId = await seedRoom(olga!, ada!, mo!);
		await setRole(roomId, ada!, 'admin');
		const watcher = await connect(roomId, mo!, 0);

		expect(await setRetention(db(), rt(), actor(mo!), roomId, 86_400)).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await setRetention(db(), rt(), actor(sam!), roomId, 86_400)).toMatchObject({
			ok: false,
			status: 404
		});
		// Not a group's choice (disappearing in 30 s is a direct conversation's), and not a number.
		for (const bad of [30, 12_345, undefined]) {
			expect(await setRetention(db(), rt(), actor(olga!), roomId, bad)).toMatchObject({
				ok: false,
				status: 400
			});
		}
		expect(await retentionOf(roomId)).toBeNull();

		expect(await setRetention(db(), rt(), actor(ada!), roomId, 30 * 86_400)).toEqual({ ok: true });
		expect(await retentionOf(roomId)).toBe(30 * 86_400);
		const line = await watcher.next('message', (f) => f.message.kind === 'system');
		expect(line.message.body).toBe(
			'Ada set this room to delete messages 30 days after they are sent'
		);
		const log = await db().select().from(auditLog).where(eq(auditLog.roomId, roomId));
		expect(log.map((e) => [e.actorId, e.action, e.details])).toEqual([
			[ada!.id, 'room.retention', JSON.stringify({ seconds: 30 * 86_400, before: null })]
		]);

		expect(await setRetention(db(), rt(), actor(olga!), roomId, null)).toEqual({ ok: true });
		expect(await retentionOf(roomId)).toBeNull();
		watcher.close();
	});

	it('lets either person in a direct conversation turn disappearing messages on and off', async () => {
		const ana = await seedPerson('ana');
		const bo = await seedPerson('bo');
		const eve = await seedPerson('eve');
		await befriend(ana, bo);
		const direct = await findOrCreateDirectRoom(db(), ana.id, bo.id);
		if (!direct.ok) throw new Error(direct.message);
		const roomId = direct.roomId;
		const anaSocket = await connect(roomId, ana, 0);

		expect(await setRetention(db(), rt(), actor(bo), roomId, 3600)).toEqual({ ok: true });
		const line = await anaSocket.next('message', (f) => f.message.kind === 'system');
		expect(line.message.body).toBe(
			'Bo turned on disappearing messages: new and old messages disappear 1 hour after they are sent'
		);
		expect(await setRetention(db(), rt(), actor(eve), roomId, null)).toMatchObject({
			ok: false,
			status: 404
		});
		// A group's year is not a disappearing choice.
		expect(await setRetention(db(), rt(), actor(ana), roomId, 365 * 86_400)).toMatchObject({
			ok: false,
			status: 400
		});
		expect(await setRetention(db(), rt(), actor(ana), roomId, null)).toEqual({ ok: true });
		expect(await retentionOf(roomId)).toBeNull();
		// A direct conversation has no admins: nothing to audit.
		expect(await db().select().from(auditLog).where(eq(auditLog.roomId, roomId))).toEqual([]);
		anaSocket.close();
	});

	it('reads a form’s choice strictly', () => {
		expect(parseRetention('')).toBeNull();
		expect(parseRetention('off')).toBeNull();
		expect(parseRetention('3600')).toBe(3600);
		expect(parseRetention('1e3')).toBeUndefined();
		expect(parseRetention('-1')).toBeUndefined();
	});
});
