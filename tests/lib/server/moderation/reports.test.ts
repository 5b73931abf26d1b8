// Reports: anyone who can read a room reports a message in it, anyone reports a person; a report
// keeps the message as it was; the room's owner and admins (no one else) list and resolve the
// reports about their room, each resolution recorded in the audit log; a direct conversation's and
// a person's reports are for the site's admins alone.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { auditLog, reports } from '$shared/db/schema';
import type { SessionUser } from '$lib/server/auth/session';
import { changeRoom } from '$lib/server/api/room-changes';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { addMember } from '$lib/server/rooms/members';
import { readHistory } from '$lib/server/rooms/history';
import {
	deleteReportedMessage,
	listReports,
	reportContext,
	reportMessage,
	reportPerson,
	resolveReport
} from '$lib/server/moderation/reports';
import { createDevice, encodeContent, encryptMessage, startGroup } from '$lib/client/e2ee/engine';
import { DECRYPTED_BY_REPORTER } from '$lib/server/moderation/reports';
import { SEALED_PREVIEW } from '$shared/protocol';
import { db, roomStub, seedRoom } from '../../../helpers';
import { befriend, rt, seedPerson, setRole } from '../../../support/people';

type Someone = Awaited<ReturnType<typeof seedPerson>>;

function sessionUser(person: Someone): SessionUser {
	return {
		id: person.id,
		username: person.username,
		displayName: person.displayName,
		email: `${person.id}@example.test`,
		emailVerified: true
	};
}

let clientCounter = 0;

/** Sends a message into the room as `person`, through the room object; answers its seq. */
async function say(roomId: string, person: Someone, body: string): Promise<number> {
	const { stored } = await changeRoom(env, sessionUser(person), roomId, 'member', {
		type: 'send',
		clientId: `c${++clientCounter}`,
		body
	});
	return stored!.seq;
}

/** Ana owns a group where Ben is an admin and Cy and Dee are members; Sam is in no room. */
async function world() {
	const [ana, ben, cy, dee, sam] = await Promise.all(
		['ana', 'ben', 'cy', 'dee', 'sam'].map((name) => seedPerson(name))
	);
	const roomId = await seedRoom(ana!, ben!, cy!, dee!);
	await setRole(roomId, ben!, 'admin');
	return { ana: ana!, ben: ben!, cy: cy!, dee: dee!, sam: sam!, roomId };
}

const spam = { reason: 'spam', details: '  buy now links  ' };

describe('reporting an end-to-end encrypted message', () => {
	it('keeps the words the reporter’s device decrypted, marked as such, and never the ciphertext', async () => {
		const { ana, cy, dee, roomId } = await world();
		await roomStub(roomId).enableEncryption(roomId);
		const device = await createDevice(cy.id, 'laptop');
		const sealed = await encryptMessage(
			await startGroup(device, roomId),
			encodeContent({ v: 1, kind: 'message', body: 'buy cheap watches' })
		);
		const seq = await say(roomId, cy, sealed.ciphertext);
		expect(
			(
				await reportMessage(
					db(),
					dee,
					roomId,
					seq,
					{ ...spam, decrypted: 'buy cheap watches' },
					rt()
				)
			).ok
		).toBe(true);
		const { reports: list } = await listReports(db(), { roomId });
		expect(list[0]!.message!.body).toBe(`${DECRYPTED_BY_REPORTER}\nbuy cheap watches`);
		// Sent without the words (a browser that could not read it), the report says what it is.
		expect((await reportMessage(db(), ana, roomId, seq, spam, rt())).ok).toBe(true);
		const byAna = (await listReports(db(), { roomId })).reports.find(
			(r) => r.reporter?.id === ana.id
		);
		expect(byAna!.message!.body).toBe(SEALED_PREVIEW);
		// The conversation around a report never shows ciphertext either.
		const context = await reportContext(db(), rt(), list[0]!);
		expect(context.map((line) => line.body)).toEqual([SEALED_PREVIEW]);
		expect(JSON.stringify(await db().select().from(reports))).not.toContain(sealed.ciphertext);
	});
});

describe('reporting a message', () => {
	it('keeps the message as it was, its sender and the reason, for the room’s admins', async () => {
		const { ana, cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'buy cheap watches');
		const reported = await reportMessage(db(), dee, roomId, seq, spam, rt());
		expect(reported.ok).toBe(true);

		const { reports: list } = await listReports(db(), { roomId });
		expect(list).toHaveLength(1);
		expect(list[0]).toMatchObject({
			reason: 'spam',
			reasonLabel: 'Spam',
			details: 'buy now links',
			status: 'open',
			reporter: { id: dee.id, username: dee.username, displayName: 'Dee' },
			reported: { id: cy.id, displayName: 'Cy' },
			room: { id: roomId, name: 'Test room', kind: 'group' },
			message: { seq, body: 'buy cheap watches', deletedNow: false },
			resolvedBy: null,
			resolution: null
		});

		// An edit afterwards changes the message, not what was reported.
		await changeRoom(env, sessionUser(cy), roomId, 'member', {
			type: 'edit',
			seq,
			body: 'nothing to see'
		});
		const after = await listReports(db(), { roomId });
		expect(after.reports[0]!.message!.body).toBe('buy cheap watches');

		// The conversation around it is as it stands now.
		const before = await say(roomId, ana, 'welcome all');
		const context = await reportContext(db(), rt(), after.reports[0]!);
		expect(context.map((line) => [line.body, line.reported])).toEqual([
			['nothing to see', true],
			['welcome all', false]
		]);
		expect(before).toBe(seq + 1);
	});

	it('updates the first report when the same person reports the same message again', async () => {
		const { cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'spam spam');
		const first = await reportMessage(db(), dee, roomId, seq, spam, rt());
		const again = await reportMessage(
			db(),
			dee,
			roomId,
			seq,
			{ reason: 'harassment', details: 'still at it' },
			rt()
		);
		expect(first.ok && again.ok && again.id).toBe(first.ok && first.id);
		const { reports: list } = await listReports(db(), { roomId });
		expect(list).toHaveLength(1);
		expect(list[0]).toMatchObject({ reason: 'harassment', details: 'still at it' });
	});

	it('makes one report of a message reported twice at once, by the same person', async () => {
		const { cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'spam spam');
		const both = await Promise.all([
			reportMessage(db(), dee, roomId, seq, spam, rt()),
			reportMessage(db(), dee, roomId, seq, { reason: 'other', details: 'twice' }, rt())
		]);
		expect(both.map((r) => r.ok)).toEqual([true, true]);
		const { reports: list } = await listReports(db(), { roomId });
		expect(list).toHaveLength(1);
	});

	it('reopens a resolved report when it is reported again', async () => {
		const { ana, cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'spam spam');
		const first = await reportMessage(db(), dee, roomId, seq, spam, rt());
		if (!first.ok) throw new Error(first.message);
		await resolveReport(db(), ana, first.id, { resolution: 'dismissed' }, 'room_admin');
		await reportMessage(db(), dee, roomId, seq, spam, rt());
		const { reports: list } = await listReports(db(), { roomId }, { status: 'open' });
		expect(list.map((r) => [r.id, r.resolvedBy, r.resolution])).toEqual([[first.id, null, null]]);
	});

	it('is refused to a stranger, for one’s own message, a missing one and a system line', async () => {
		const { ana, cy, sam, roomId } = await world();
		const seq = await say(roomId, cy, 'hello');
		expect(await reportMessage(db(), sam, roomId, seq, spam, rt())).toMatchObject({
			ok: false,
			status: 404
		});
		expect(await reportMessage(db(), cy, roomId, seq, spam, rt())).toMatchObject({
			ok: false,
			status: 400,
			code: 'self'
		});
		expect(await reportMessage(db(), ana, roomId, seq + 50, spam, rt())).toMatchObject({
			ok: false,
			status: 404,
			message: 'There is no such message.'
		});
		// Adding someone leaves a line in the timeline: the room's record, no one's message.
		const eve = await seedPerson('eve');
		await befriend(ana, eve);
		expect(await addMember(db(), rt(), ana, roomId, eve.username)).toEqual({ ok: true });
		const { messages } = await readHistory(db(), roomStub(roomId), roomId, {});
		const line = messages.find((m) => m.kind === 'system');
		expect(await reportMessage(db(), cy, roomId, line!.seq, spam, rt())).toMatchObject({
			ok: false,
			code: 'bad_target'
		});
		expect(await db().select().from(reports).where(eq(reports.roomId, roomId))).toEqual([]);
	});

	it('refuses a reason not on the list and details that are too long, writing nothing', async () => {
		const { cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'hello');
		for (const input of [
			{ reason: 'rude' },
			{},
			null,
			{ reason: 'spam', details: 'x'.repeat(1001) },
			{ reason: 'spam', details: 42 }
		]) {
			const refused = await reportMessage(db(), dee, roomId, seq, input, rt());
			expect(refused).toMatchObject({ ok: false, status: 400, code: 'bad_input' });
		}
		const long = await reportMessage(
			db(),
			dee,
			roomId,
			seq,
			{ reason: 'spam', details: 'x'.repeat(1001) },
			rt()
		);
		expect(long.ok || long.message).toMatch(/1000 characters/);
		expect(await db().select().from(reports).where(eq(reports.roomId, roomId))).toEqual([]);
		// 1000 characters, with spaces around, fit.
		const fits = await reportMessage(
			db(),
			dee,
			roomId,
			seq,
			{ reason: 'other', details: ` ${'x'.repeat(1000)} ` },
			rt()
		);
		expect(fits.ok).toBe(true);
	});

	it('is refused past twenty reports an hour from one person', async () => {
		const { cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'hello');
		for (let i = 0; i < 20; i++) {
			expect((await reportMessage(db(), dee, roomId, seq, spam, rt())).ok).toBe(true);
		}
		expect(await reportMessage(db(), dee, roomId, seq, spam, rt())).toMatchObject({
			ok: false,
			code: 'too_many'
		});
	});
});

describe('reporting a person', () => {
	it('is for the site’s admins: no room, and refused for oneself or no one', async () => {
		const { cy, sam } = await world();
		const reported = await reportPerson(db(), sam, cy.username, { reason: 'harassment' });
		expect(reported.ok).toBe(true);
		const again = await reportPerson(db(), sam, cy.username.toUpperCase(), spam);
		expect(again.ok && again.id).toBe(reported.ok && reported.id);
		const mine = (await listReports(db(), { all: true })).reports.filter(
			(r) => r.reporter?.id === sam.id
		);
		expect(mine).toHaveLength(1);
		expect(mine[0]).toMatchObject({
			reason: 'spam',
			room: null,
			message: null,
			reported: { id: cy.id }
		});
		expect(await reportPerson(db(), sam, sam.username, spam)).toMatchObject({
			ok: false,
			code: 'self'
		});
		expect(await reportPerson(db(), sam, 'nobody_at_all', spam)).toMatchObject({
			ok: false,
			status: 404
		});
		expect(await reportPerson(db(), sam, cy.username, { reason: 'meh' })).toMatchObject({
			ok: false,
			status: 400
		});
		// A room admin has no say over a report of a person.
		const { ana } = await world();
		if (!reported.ok) throw new Error(reported.message);
		expect(
			await resolveReport(db(), ana, reported.id, { resolution: 'dismissed' }, 'room_admin')
		).toMatchObject({ ok: false, status: 403 });
	});
});

describe('handling reports', () => {
	it('lets the owner and the admins resolve, not a member or a stranger; audited', async () => {
		const { ana, ben, cy, dee, sam, roomId } = await world();
		const seq = await say(roomId, cy, 'rude words');
		const reported = await reportMessage(db(), dee, roomId, seq, spam, rt());
		if (!reported.ok) throw new Error(reported.message);

		expect(
			await resolveReport(db(), dee, reported.id, { resolution: 'dismissed' }, 'room_admin')
		).toMatchObject({ ok: false, status: 403 });
		// A stranger cannot even learn that the report exists.
		expect(
			await resolveReport(db(), sam, reported.id, { resolution: 'dismissed' }, 'room_admin')
		).toMatchObject({ ok: false, status: 404 });
		expect((await listReports(db(), { roomId }, { status: 'open' })).reports).toHaveLength(1);

		const done = await resolveReport(
			db(),
			ben,
			reported.id,
			{ resolution: 'dismissed', note: ' not spam ' },
			'room_admin'
		);
		expect(done).toEqual({ ok: true });
		expect((await listReports(db(), { roomId }, { status: 'open' })).reports).toEqual([]);
		const [resolved] = (await listReports(db(), { roomId }, { status: 'resolved' })).reports;
		expect(resolved).toMatchObject({
			status: 'resolved',
			resolvedBy: { id: ben.id },
			resolution: 'dismissed',
			resolutionNote: 'not spam'
		});
		const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, reported.id));
		expect(audit).toHaveLength(1);
		expect(audit[0]).toMatchObject({
			actorId: ben.id,
			actorRole: 'room_admin',
			action: 'report.resolve',
			targetKind: 'report',
			roomId
		});
		expect(JSON.parse(audit[0]!.details)).toEqual({
			resolution: 'dismissed',
			note: 'not spam',
			seq
		});

		// Once is enough; the owner may handle the next one.
		expect(
			await resolveReport(db(), ana, reported.id, { resolution: 'dismissed' }, 'room_admin')
		).toMatchObject({ ok: false, status: 409 });
	});

	it('deletes the reported message through the room, then resolves the report', async () => {
		const { ana, cy, dee, roomId } = await world();
		const seq = await say(roomId, cy, 'delete me');
		const reported = await reportMessage(db(), dee, roomId, seq, spam, rt());
		if (!reported.ok) throw new Error(reported.message);
		expect(await deleteReportedMessage(db(), env, sessionUser(dee), reported.id)).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await deleteReportedMessage(db(), env, sessionUser(ana), reported.id)).toEqual({
			ok: true
		});
		await runDurableObjectAlarm(roomStub(roomId));
		const [report] = (await listReports(db(), { roomId })).reports;
		expect(report).toMatchObject({
			status: 'resolved',
			resolution: 'message_deleted',
			message: { body: 'delete me', deletedNow: true }
		});
	});

	it('keeps a direct conversation’s reports from both of its people as room admins', async () => {
		const { cy, dee } = await world();
		await befriend(cy, dee);
		const direct = await findOrCreateDirectRoom(db(), cy.id, dee.id);
		if (!direct.ok) throw new Error(direct.message);
		const seq = await say(direct.roomId, cy, 'a direct word');
		const reported = await reportMessage(db(), dee, direct.roomId, seq, spam, rt());
		if (!reported.ok) throw new Error(reported.message);
		for (const person of [cy, dee]) {
			expect(
				await resolveReport(db(), person, reported.id, { resolution: 'dismissed' }, 'room_admin')
			).toMatchObject({ ok: false, status: 403 });
			expect(
				await deleteReportedMessage(db(), env, sessionUser(person), reported.id)
			).toMatchObject({ ok: false, status: 403 });
		}
		// A site admin (the caller checked) may.
		expect(
			await resolveReport(db(), dee, reported.id, { resolution: 'dismissed' }, 'site_admin')
		).toEqual({ ok: true });
		const [entry] = await db().select().from(auditLog).where(eq(auditLog.targetId, reported.id));
		expect(entry).toMatchObject({ actorRole: 'site_admin', roomId: direct.roomId });
	});

	it('pages the reports newest first by a time cursor', async () => {
		const { cy, dee, roomId } = await world();
		const seqs = [];
		for (const body of ['one', 'two', 'three']) seqs.push(await say(roomId, cy, body));
		// A millisecond apart, as reports made one after another would be.
		for (const [i, seq] of seqs.entries()) {
			const done = await reportMessage(db(), dee, roomId, seq, spam, rt());
			if (!done.ok) throw new Error(done.message);
			await db()
				.update(reports)
				.set({ createdAt: 1_000 + i })
				.where(eq(reports.id, done.id));
		}
		const first = await listReports(db(), { roomId }, { limit: 2 });
		expect(first.reports.map((r) => r.message!.body)).toEqual(['three', 'two']);
		expect(first.nextCursor).not.toBeNull();
		const second = await listReports(db(), { roomId }, { limit: 2, cursor: first.nextCursor });
		expect(second.reports.map((r) => r.message!.body)).toEqual(['one']);
		expect(second.nextCursor).toBeNull();
	});
});
