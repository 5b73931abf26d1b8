import { describe, expect, it } from 'vitest';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { CloseCode } from '$shared/protocol';
import { messages, rooms } from '$shared/db/schema';
import { deleteRoom } from '$lib/server/rooms/admin';
import { connect, db, injectOutage, roomStub, seedRoom, type Outage } from '../../helpers';
import { rt, seedPerson } from '../../support/people';

describe('deleting a group', () => {
	it('empties the room object: sockets closed, unflushed messages and the flush alarm dropped', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const outage: Outage = { mode: 'down', attempts: 0 };
		await injectOutage(room, outage);
		const a = await connect(room, alice, 0);
		const b = await connect(room, bob, 0);
		a.send({ type: 'send', clientId: 'c1', body: 'see you at the crag' });
		a.send({ type: 'send', clientId: 'c2', body: 'bring the rope' });
		await a.until((f) => f.filter((x) => x.type === 'ack').length === 2);
		// The flush failed once and waits to retry: the two messages exist only in the room.
		expect(await runDurableObjectAlarm(roomStub(room))).toBe(true);
		expect(await roomStub(room).unflushed({ limit: 10 })).toHaveLength(2);

		expect(await deleteRoom(db(), rt(), alice, room)).toEqual({ ok: true });

		await a.until(() => a.closed);
		await b.until(() => b.closed);
		expect(a.closed?.code).toBe(CloseCode.RoomGone);
		expect(b.closed?.code).toBe(CloseCode.RoomGone);
		expect(await db().select().from(rooms).where(eq(rooms.id, room))).toHaveLength(0);
		// Even with D1 answering again, nothing is left to retry against the missing room.
		outage.mode = 'up';
		const attempts = outage.attempts;
		expect(
			await runInDurableObject(roomStub(room), (_instance, state) => state.storage.getAlarm())
		).toBeNull();
		expect(await runDurableObjectAlarm(roomStub(room))).toBe(false);
		expect(outage.attempts).toBe(attempts);
		expect(await roomStub(room).unflushed({ limit: 10 })).toEqual([]);
		expect(await roomStub(room).lastSeq()).toBe(0);
		expect(await db().select().from(messages).where(eq(messages.roomId, room))).toEqual([]);
	});

	it('a room object that was destroyed holds nothing, so a later room of the same name starts at seq 1', async () => {
		const alice = await seedPerson('alice');
		const room = await seedRoom(alice);
		const a = await connect(room, alice, 0);
		a.send({ type: 'send', clientId: 'c1', body: 'first' });
		await a.next('ack');
		expect(await roomStub(room).destroy()).toBe(1);
		await a.until(() => a.closed);

		const again = await connect(room, alice, 0);
		again.send({ type: 'send', clientId: 'c2', body: 'first, again' });
		expect((await again.next('ack')).seq).toBe(1);
		again.close();
	});
});
