// A room's owner and admins turn on slow mode and time members out: who may, what is refused and
// changes nothing, what the room then enforces, and the audit entry and timeline line of each.
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { ErrorCode } from '$shared/protocol';
import { auditLog, memberships, rooms } from '$shared/db/schema';
import { endTimeOut, setSlowMode, timeOutMember } from '$lib/server/moderation/room-moderation';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { connect, db, seedRoom } from '../../../helpers';
import { actions, load } from '../../../../src/routes/rooms/[id]/details/+page.server';
import { signedInBrowser } from '../../../support/accounts';
import { befriend, rt, seedPerson, setRole } from '../../../support/people';

type Who = Awaited<ReturnType<typeof seedPerson>>;
const actor = (who: Who) => ({ id: who.id, displayName: who.displayName, username: who.username });

/** Olga owns a room where Ada is an admin and Mo and Cy are members; Sam is not in it. */
async function world() {
	const [olga, ada, mo, cy, sam] = await Promise.all(
		['olga', 'ada', 'mo', 'cy', 'sam'].map((name) => seedPerson(name))
	);
	const roomId = await seedRoom(olga!, ada!, mo!, cy!);
	await setRole(roomId, ada!, 'admin');
	return { olga: olga!, ada: ada!, mo: mo!, cy: cy!, sam: sam!, roomId };
}

async function entries(roomId: string) {
	return db().select().from(auditLog).where(eq(auditLog.roomId, roomId));
}

async function timedOutUntil(roomId: string, userId: string) {
	const [row] = await db()
		.select({ until: memberships.timedOutUntil })
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, userId)));
	return row?.until ?? null;
}

describe('slow mode', () => {
	it('is set by the owner or an admin, enforced by the room, announced and audited', async () => {
		const { ada, mo, roomId } = await world();
		const watcher = await connect(roomId, mo, 0);
		expect(await setSlowMode(db(), rt(), actor(ada), roomId, { seconds: '30' })).toEqual({
			ok: true
		});
		const [room] = await db().select().from(rooms).where(eq(rooms.id, roomId));
		expect(room!.slowModeSeconds).toBe(30);
		const line = await watcher.next('message', (f) => f.message.kind === 'system');
		expect(line.message.body).toBe('Ada turned on slow mode: one message every 30 seconds');
		expect(await entries(roomId)).toEqual([
			expect.objectContaining({
				actorId: ada.id,
				actorRole: 'room_admin',
				action: 'room.slow_mode',
				targetKind: 'room',
				details: JSON.stringify({ seconds: 30, before: 0 })
			})
		]);

		watcher.send({ type: 'send', clientId: 'a', body: 'one' });
		await watcher.next('ack');
		watcher.send({ type: 'send', clientId: 'b', body: 'two' });
		expect((await watcher.next('error')).code).toBe(ErrorCode.SlowMode);

		// Off again; the same setting twice is no change and no second entry.
		await setSlowMode(db(), rt(), actor(ada), roomId, { seconds: 0 });
		await setSlowMode(db(), rt(), actor(ada), roomId, { seconds: 0 });
		expect(await entries(roomId)).toHaveLength(2);
		watcher.close();
	});

	it('is refused to members, strangers, direct conversations and settings not on the list', async () => {
		const { olga, mo, sam, roomId } = await world();
		expect(await setSlowMode(db(), rt(), actor(mo), roomId, { seconds: 30 })).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await setSlowMode(db(), rt(), actor(sam), roomId, { seconds: 30 })).toMatchObject({
			ok: false,
			status: 404
		});
		for (const seconds of [7, -1, 'soon', 86_400]) {
			expect(await setSlowMode(db(), rt(), actor(olga), roomId, { seconds })).toMatchObject({
				ok: false,
				status: 400
			});
		}
		await befriend(olga, mo);
		const direct = await findOrCreateDirectRoom(db(), olga.id, mo.id);
		if (!direct.ok) throw new Error(direct.message);
		expect(
			await setSlowMode(db(), rt(), actor(olga), direct.roomId, { seconds: 30 })
		).toMatchObject({ ok: false });
		const [room] = await db().select().from(rooms).where(eq(rooms.id, roomId));
		expect(room!.slowModeSeconds).toBe(0);
		expect(await entries(roomId)).toEqual([]);
	});
});

describe('time-outs', () => {
	it('keep a member from sending until they end, with the reason in the audit log', async () => {
		const { olga, mo, cy, roomId } = await world();
		const socket = await connect(roomId, mo, 0);
		const before = Date.now();
		const done = await timeOutMember(db(), rt(), actor(olga), roomId, mo.id, {
			length: '1h',
			reason: ' flooding the room '
		});
		expect(done).toMatchObject({ ok: true });
		const until = await timedOutUntil(roomId, mo.id);
		expect(until).toBeGreaterThanOrEqual(before + 60 * 60_000);

		socket.send({ type: 'send', clientId: 'a', body: 'let me talk' });
		expect((await socket.next('error', (f) => f.clientId === 'a')).code).toBe(ErrorCode.TimedOut);
		const other = await connect(roomId, cy, 0);
		other.send({ type: 'send', clientId: 'c', body: 'I can' });
		await other.next('ack');

		expect(await endTimeOut(db(), rt(), actor(olga), roomId, mo.id)).toEqual({ ok: true });
		expect(await timedOutUntil(roomId, mo.id)).toBeNull();
		socket.send({ type: 'send', clientId: 'a', body: 'let me talk' });
		await socket.next('ack', (f) => f.clientId === 'a');

		const log = await entries(roomId);
		expect(log.map((e) => [e.action, e.targetId, e.reason])).toEqual(
			expect.arrayContaining([
				['member.time_out', mo.id, 'flooding the room'],
				['member.end_time_out', mo.id, '']
			])
		);
		socket.close();
		other.close();
	});

	it('is refused to members and strangers, for admins and owners, and for bad input', async () => {
		const { olga, ada, mo, cy, sam, roomId } = await world();
		const cases: [Who, string, unknown, number][] = [
			[cy, mo.id, { length: '1h' }, 403],
			[sam, mo.id, { length: '1h' }, 404],
			[ada, olga.id, { length: '1h' }, 409],
			[olga, ada.id, { length: '1h' }, 409],
			[olga, sam.id, { length: '1h' }, 404],
			[olga, mo.id, { length: '1y' }, 400],
			[olga, mo.id, { length: '1h', reason: 'x'.repeat(501) }, 400]
		];
		for (const [who, target, input, status] of cases) {
			const outcome = await timeOutMember(db(), rt(), actor(who), roomId, target, input);
			expect(outcome, `${who.displayName} → ${JSON.stringify(input)}`).toMatchObject({
				ok: false,
				status
			});
		}
		expect(await timedOutUntil(roomId, mo.id)).toBeNull();
		expect(await entries(roomId)).toEqual([]);
		// The room holds nobody either.
		const socket = await connect(roomId, mo, 0);
		socket.send({ type: 'send', clientId: 'a', body: 'free' });
		await socket.next('ack');
		socket.close();
	});
});

describe('the room details page', () => {
	it('sets slow mode and times a member out through its forms, and shows both to admins only', async () => {
		const { olga, mo, roomId } = await world();
		const owner = await signedInBrowser(olga);
		const member = await signedInBrowser(mo);
		const post = (
			browser: typeof owner,
			action: keyof typeof actions,
			form: Record<string, string>
		) =>
			browser.call(actions[action]!, {
				path: `/rooms/${roomId}/details?/${action}`,
				params: { id: roomId },
				form
			});
		expect(await post(owner, 'slowMode', { value: '10' })).toMatchObject({
			kind: 'redirect',
			location: `/rooms/${roomId}/details?tab=about`
		});
		expect(await post(owner, 'timeOut', { userId: mo.id, length: '5m', reason: '' })).toMatchObject(
			{ kind: 'redirect', location: `/rooms/${roomId}/details?tab=members` }
		);
		expect(await post(member, 'slowMode', { value: '0' })).toMatchObject({
			kind: 'failure',
			status: 403
		});
		expect(await post(member, 'endTimeOut', { userId: mo.id })).toMatchObject({
			kind: 'failure',
			status: 403
		});

		const seen = async (browser: typeof owner) => {
			const outcome = await browser.call(load, {
				path: `/rooms/${roomId}/details`,
				params: { id: roomId }
			});
			if (outcome.kind !== 'data') throw new Error(outcome.kind);
			return outcome.data as {
				room: { slowModeSeconds: number };
				timeOuts: Record<string, number>;
			};
		};
		const ownerView = await seen(owner);
		expect(ownerView.room.slowModeSeconds).toBe(10);
		expect(Object.keys(ownerView.timeOuts)).toEqual([mo.id]);
		expect((await seen(member)).timeOuts).toEqual({});
	});
});
