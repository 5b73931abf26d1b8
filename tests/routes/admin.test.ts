// The site admin's area: every page and action is a 404 to anyone else, and changes nothing then;
// every action of the admin's is recorded in the audit log, and so are the room owners' and
// admins' own moderation actions in their rooms.
import { describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { auditLog, reports, rooms } from '$shared/db/schema';
import { roomStub } from '$shared/objects';
import { changeRoom } from '$lib/server/api/room-changes';
import { generateId } from '$lib/server/ids';
import { sessionUserOf } from '$lib/server/auth/session';
import { deleteRoom, updateRoomDetails } from '$lib/server/rooms/admin';
import {
	banMember,
	removeMember,
	setMemberRole,
	transferOwnership,
	unbanMember
} from '$lib/server/rooms/members';
import * as overview from '../../src/routes/admin/+page.server';
import * as layout from '../../src/routes/admin/+layout.server';
import * as people from '../../src/routes/admin/people/+page.server';
import * as person from '../../src/routes/admin/people/[id]/+page.server';
import * as roomList from '../../src/routes/admin/rooms/+page.server';
import * as room from '../../src/routes/admin/rooms/[id]/+page.server';
import * as reportsPage from '../../src/routes/admin/reports/+page.server';
import * as audit from '../../src/routes/admin/audit/+page.server';
import { seedRoom } from '../helpers';
import { db, registerPerson, signedInBrowser, userRow, type Member } from '../support/accounts';
import { rt, setRole } from '../support/people';
import type { Outcome, TestBrowser } from '../support/request-event';

vi.setConfig({ testTimeout: 30_000 });

const asPerson = (p: Member) => ({ id: p.id, name: p.displayName, username: p.username });

/** Sam administers the site; Eve and Bob share Eve's room, where Bob wrote something reported. */
async function world() {
	const [sam, eve, bob] = await Promise.all(['sam', 'eve', 'bob'].map((n) => registerPerson(n)));
	const roomId = await seedRoom(asPerson(eve!), asPerson(bob!));
	const config = { SITE_ADMINS: sam!.username };
	const admin = await signedInBrowser(sam!);
	Object.assign(admin.env, config);
	const other = await signedInBrowser(eve!);
	Object.assign(other.env, config);
	return { sam: sam!, eve: eve!, bob: bob!, roomId, admin, other };
}

async function seedReport(
	roomId: string,
	reporter: Member,
	reported: Member,
	seq: number | null = null
) {
	const id = generateId();
	await db()
		.insert(reports)
		.values({
			id,
			reporterId: reporter.id,
			roomId,
			messageSeq: seq,
			reportedUserId: reported.id,
			reason: 'spam',
			details: 'Again and again',
			messageBody: seq === null ? null : 'Buy cheap pills',
			createdAt: Date.now(),
			status: 'open'
		});
	return id;
}

async function entriesBy(actorId: string) {
	const rows = await db().select().from(auditLog).where(eq(auditLog.actorId, actorId));
	return rows.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

function act(
	browser: TestBrowser,
	handler: (event: never) => unknown,
	path: string,
	params: Record<string, string> = {},
	form: Record<string, string> = {}
): Promise<Outcome> {
	return browser.call(handler as never, { path, params, form });
}

describe('the admin area refuses everyone else', () => {
	it('answers 404 to every page and action, and changes nothing', async () => {
		const { sam, eve, bob, roomId, other } = await world();
		const reportId = await seedReport(roomId, eve, bob);
		const calls: [
			(event: never) => unknown,
			string,
			Record<string, string>,
			Record<string, string>?
		][] = [
			[layout.load, '/admin', {}],
			[overview.load, '/admin', {}],
			[people.load, '/admin/people', {}],
			[person.load, `/admin/people/${bob.id}`, { id: bob.id }],
			[
				person.actions.suspend!,
				`/admin/people/${bob.id}?/suspend`,
				{ id: bob.id },
				{ reason: 'x' }
			],
			[person.actions.unsuspend!, `/admin/people/${bob.id}?/unsuspend`, { id: bob.id }, {}],
			[person.actions.delete!, `/admin/people/${bob.id}?/delete`, { id: bob.id }, {}],
			[roomList.load, '/admin/rooms', {}],
			[room.load, `/admin/rooms/${roomId}`, { id: roomId }],
			[room.actions.delete!, `/admin/rooms/${roomId}?/delete`, { id: roomId }, {}],
			[reportsPage.load, '/admin/reports', {}],
			[reportsPage.actions.dismiss!, '/admin/reports?/dismiss', {}, { reportId }],
			[reportsPage.actions.deleteMessage!, '/admin/reports?/deleteMessage', {}, { reportId }],
			[
				reportsPage.actions.suspendAuthor!,
				'/admin/reports?/suspendAuthor',
				{},
				{ reportId, reason: 'x' }
			],
			[audit.load, '/admin/audit', {}]
		];
		for (const [handler, path, params, form] of calls) {
			expect(await act(other, handler, path, params, form), path).toEqual({
				kind: 'error',
				status: 404,
				message: 'Not found'
			});
		}
		expect((await userRow(bob.id)).suspendedAt).toBeNull();
		expect(await db().select().from(rooms).where(eq(rooms.id, roomId))).toHaveLength(1);
		const [report] = await db().select().from(reports).where(eq(reports.id, reportId));
		expect(report!.status).toBe('open');
		expect(await entriesBy(eve.id)).toEqual([]);
		expect(await entriesBy(sam.id)).toEqual([]);
	});
});

describe('a site admin', () => {
	it('finds people and rooms, and sees a room’s members and settings', async () => {
		const { admin, bob, eve, roomId } = await world();
		expect(
			await act(admin, people.load, `/admin/people?q=${bob.username.slice(0, 6).toUpperCase()}`)
		).toMatchObject({
			kind: 'data',
			data: { people: expect.arrayContaining([expect.objectContaining({ id: bob.id })]) }
		});
		expect(await act(admin, people.load, `/admin/people?q=${eve.email}`)).toMatchObject({
			data: { people: [expect.objectContaining({ id: eve.id })] }
		});
		expect(await act(admin, roomList.load, '/admin/rooms?q=test%20ROOM')).toMatchObject({
			data: { rooms: expect.arrayContaining([expect.objectContaining({ id: roomId })]) }
		});
		expect(await act(admin, room.load, `/admin/rooms/${roomId}`, { id: roomId })).toMatchObject({
			data: {
				room: {
					id: roomId,
					slowModeSeconds: 0,
					members: [
						expect.objectContaining({ id: eve.id, role: 'owner' }),
						expect.objectContaining({ id: bob.id, role: 'member' })
					]
				}
			}
		});
		expect(await act(admin, overview.load, '/admin')).toMatchObject({
			data: { counts: { people: expect.any(Number), rooms: expect.any(Number) } }
		});
	});

	it('suspends and unsuspends with a reason, each in the audit log, and the log shows them', async () => {
		const { admin, sam, bob } = await world();
		const path = `/admin/people/${bob.id}`;
		expect(
			await act(admin, person.actions.suspend!, `${path}?/suspend`, { id: bob.id }, { reason: ' ' })
		).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { reason: expect.any(String) } }
		});
		expect(
			await act(
				admin,
				person.actions.suspend!,
				`${path}?/suspend`,
				{ id: bob.id },
				{ reason: 'Spam' }
			)
		).toMatchObject({ kind: 'data' });
		expect(await act(admin, person.load, path, { id: bob.id })).toMatchObject({
			data: { person: { suspendedReason: 'Spam' }, protected: false }
		});
		expect(
			await act(
				admin,
				person.actions.unsuspend!,
				`${path}?/unsuspend`,
				{ id: bob.id },
				{ note: 'Appealed' }
			)
		).toMatchObject({ kind: 'data' });
		expect((await entriesBy(sam.id)).map((e) => [e.action, e.targetId, e.reason])).toEqual([
			['user.suspend', bob.id, 'Spam'],
			['user.unsuspend', bob.id, 'Appealed']
		]);
		const log = await act(admin, audit.load, '/admin/audit');
		expect(log).toMatchObject({
			data: {
				entries: expect.arrayContaining([
					expect.objectContaining({
						action: 'user.suspend',
						actor: expect.objectContaining({ id: sam.id }),
						targetName: `Bob (@${bob.username})`,
						reason: 'Spam'
					})
				])
			}
		});
		// Their own account is not theirs to suspend or delete here.
		expect(await act(admin, person.load, `/admin/people/${sam.id}`, { id: sam.id })).toMatchObject({
			data: { protected: true }
		});
		expect(
			await act(admin, person.actions.delete!, `/admin/people/${sam.id}?/delete`, { id: sam.id })
		).toMatchObject({ kind: 'failure', status: 400 });
	});

	it('deletes an account and a room, each in the audit log', async () => {
		const { admin, sam, bob, roomId } = await world();
		expect(
			await act(
				admin,
				person.actions.delete!,
				`/admin/people/${bob.id}?/delete`,
				{ id: bob.id },
				{ reason: 'Ban evasion' }
			)
		).toEqual({ kind: 'redirect', status: 303, location: '/admin/people' });
		expect((await userRow(bob.id)).deletedAt).not.toBeNull();
		expect(
			await act(
				admin,
				room.actions.delete!,
				`/admin/rooms/${roomId}?/delete`,
				{ id: roomId },
				{ reason: 'Spam room' }
			)
		).toEqual({ kind: 'redirect', status: 303, location: '/admin/rooms' });
		expect(await db().select().from(rooms).where(eq(rooms.id, roomId))).toEqual([]);
		expect(
			(await entriesBy(sam.id)).map((e) => [e.actorRole, e.action, e.targetId, e.roomId, e.reason])
		).toEqual([
			['site_admin', 'user.delete', bob.id, null, 'Ban evasion'],
			['site_admin', 'room.delete', roomId, roomId, 'Spam room']
		]);
	});

	it('handles reports from any room: dismisses, deletes the message, suspends the author', async () => {
		const { admin, sam, eve, bob, roomId } = await world();
		const bobUser = sessionUserOf(await userRow(bob.id));
		const { stored } = await changeRoom(env, bobUser, roomId, 'member', {
			type: 'send',
			clientId: 'spam-1',
			body: 'Buy cheap pills'
		});
		const seq = stored!.seq;
		const dismissed = await seedReport(roomId, eve, bob);
		const aboutMessage = await seedReport(roomId, eve, bob, seq);
		const aboutBob = await seedReport(roomId, eve, bob);

		const listed = await act(admin, reportsPage.load, '/admin/reports');
		expect(listed).toMatchObject({ kind: 'data', data: { status: 'open' } });
		const ids = (listed as { data: { reports: { id: string }[] } }).data.reports.map((r) => r.id);
		expect(ids).toEqual(expect.arrayContaining([dismissed, aboutMessage, aboutBob]));

		expect(
			await act(
				admin,
				reportsPage.actions.dismiss!,
				'/admin/reports?/dismiss',
				{},
				{ reportId: dismissed, note: 'Not spam' }
			)
		).toMatchObject({ kind: 'data', data: { message: 'Report dismissed.' } });
		expect(
			await act(
				admin,
				reportsPage.actions.deleteMessage!,
				'/admin/reports?/deleteMessage',
				{},
				{ reportId: aboutMessage }
			)
		).toMatchObject({ kind: 'data', data: { message: 'Message deleted and report resolved.' } });
		// The room deleted it: asking again answers the tombstone.
		const again = await roomStub(env.ROOMS, roomId).change(
			roomId,
			{ userId: bob.id, name: bob.displayName, username: bob.username, role: 'member' },
			{ type: 'delete', seq }
		);
		expect(again).toMatchObject({ ok: true, stored: { deletedAt: expect.any(Number) } });
		expect(
			await act(
				admin,
				reportsPage.actions.suspendAuthor!,
				'/admin/reports?/suspendAuthor',
				{},
				{ reportId: aboutBob, reason: 'Spam' }
			)
		).toMatchObject({ kind: 'data', data: { message: 'Account suspended and report resolved.' } });
		expect((await userRow(bob.id)).suspendedReason).toBe('Spam');

		const statuses = await db()
			.select({ id: reports.id, status: reports.status, resolution: reports.resolution })
			.from(reports)
			.where(eq(reports.roomId, roomId));
		expect(Object.fromEntries(statuses.map((r) => [r.id, r.resolution]))).toEqual({
			[dismissed]: 'dismissed: Not spam',
			[aboutMessage]: 'message_deleted',
			[aboutBob]: 'user_suspended: Spam'
		});
		const entries = (await entriesBy(sam.id)).map((e) => [e.actorRole, e.action, e.targetId]);
		expect(entries).toEqual(
			expect.arrayContaining([
				['site_admin', 'report.resolve', dismissed],
				['site_admin', 'message.delete', `${roomId}:${seq}`],
				['site_admin', 'report.resolve', aboutMessage],
				['site_admin', 'user.suspend', bob.id],
				['site_admin', 'report.resolve', aboutBob]
			])
		);
		expect(entries).toHaveLength(5);
		// A resolved report is not handled twice.
		expect(
			await act(
				admin,
				reportsPage.actions.dismiss!,
				'/admin/reports?/dismiss',
				{},
				{ reportId: dismissed }
			)
		).toMatchObject({ kind: 'failure', status: 409 });
	});
});

describe('room owners’ and admins’ moderation', () => {
	it('is recorded in the audit log as a room admin’s, and refusals record nothing', async () => {
		const [eve, bob, cat, dan] = await Promise.all(
			['eve', 'bob', 'cat', 'dan'].map((n) => registerPerson(n))
		);
		const owner = { id: eve!.id, displayName: eve!.displayName, username: eve!.username };
		const roomId = await seedRoom(asPerson(eve!), asPerson(bob!), asPerson(cat!), asPerson(dan!));
		await setRole(roomId, asPerson(dan!), 'admin');
		const asDan = { id: dan!.id, displayName: dan!.displayName, username: dan!.username };

		expect(await removeMember(db(), rt(), owner, roomId, bob!.id)).toEqual({ ok: true });
		expect(await banMember(db(), rt(), asDan, roomId, cat!.id)).toEqual({ ok: true });
		expect(await unbanMember(db(), asDan, roomId, cat!.id)).toEqual({ ok: true });
		expect(await setMemberRole(db(), rt(), owner, roomId, dan!.id, 'member')).toEqual({ ok: true });
		// Dan is only a member now: refused, and nothing recorded.
		expect(await banMember(db(), rt(), asDan, roomId, eve!.id)).toMatchObject({ ok: false });
		expect(
			await updateRoomDetails(db(), rt(), owner, roomId, { name: 'Renamed', description: 'New' })
		).toEqual({ ok: true });
		expect(await transferOwnership(db(), rt(), owner, roomId, dan!.id)).toEqual({ ok: true });
		const asNewOwner = { ...asDan };
		expect(await deleteRoom(db(), rt(), asNewOwner, roomId)).toEqual({ ok: true });

		const entries = await db().select().from(auditLog).where(eq(auditLog.roomId, roomId));
		expect(
			entries
				.sort((a, b) => a.createdAt - b.createdAt || 0)
				.map((e) => [e.actorId, e.actorRole, e.action, e.targetId])
		).toEqual([
			[eve!.id, 'room_admin', 'member.remove', bob!.id],
			[dan!.id, 'room_admin', 'member.ban', cat!.id],
			[dan!.id, 'room_admin', 'member.unban', cat!.id],
			[eve!.id, 'room_admin', 'member.set_role', dan!.id],
			[eve!.id, 'room_admin', 'room.edit', roomId],
			[eve!.id, 'room_admin', 'member.transfer_ownership', dan!.id],
			[dan!.id, 'room_admin', 'room.delete', roomId]
		]);
		const roleChange = entries.find((e) => e.action === 'member.set_role')!;
		expect(JSON.parse(roleChange.details)).toMatchObject({ role: 'member' });
	});
});
