// Reporting from the web app, and the room details page's Reports section: a member reports a
// message (the timeline's endpoint) or a person (their profile's form); the room's owner and admins
// see the room's reports with the conversation around each, dismiss them or delete the message; a
// member, a stranger and a direct conversation get no Reports section and no say.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { memberships, reports } from '$shared/db/schema';
import type { SessionUser } from '$lib/server/auth/session';
import { changeRoom } from '$lib/server/api/room-changes';
import { listReports, type ContextLine, type ReportView } from '$lib/server/moderation/reports';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { actions, load } from '../../../../src/routes/rooms/[id]/details/+page.server';
import { POST as postReport } from '../../../../src/routes/api/rooms/[id]/reports/+server';
import { actions as profileActions } from '../../../../src/routes/u/[username]/+page.server';
import { signedInBrowser } from '../../../support/accounts';
import { befriend } from '../../../support/people';
import type { Outcome, TestBrowser } from '../../../support/request-event';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';

type ReportsData = {
	reports: (ReportView & { context: ContextLine[] })[];
	nextCursor: string | null;
	status: 'open' | 'resolved';
} | null;

let clientCounter = 0;

async function say(roomId: string, person: Person, body: string): Promise<number> {
	const user: SessionUser = {
		id: person.id,
		username: person.username,
		displayName: person.name,
		email: `${person.id}@example.test`,
		emailVerified: true
	};
	const { stored } = await changeRoom(env, user, roomId, 'member', {
		type: 'send',
		clientId: `page${++clientCounter}`,
		body
	});
	return stored!.seq;
}

/** Ana owns a group where Ben is an admin and Cy and Dee are members; Sam is in no room. */
async function world() {
	const [ana, ben, cy, dee, sam] = await Promise.all(
		['ana', 'ben', 'cy', 'dee', 'sam'].map((name) => seedUser(name))
	);
	const roomId = await seedRoom(ana!, ben!, cy!, dee!);
	await db().update(memberships).set({ role: 'admin' }).where(eq(memberships.userId, ben!.id));
	const people = { ana: ana!, ben: ben!, cy: cy!, dee: dee!, sam: sam! };
	const browsers = Object.fromEntries(
		await Promise.all(
			Object.entries(people).map(async ([name, person]) => [name, await signedInBrowser(person)])
		)
	) as Record<keyof typeof people, TestBrowser>;
	return { people, roomId, browsers };
}

function report(browser: TestBrowser, roomId: string, json: unknown, headers = {}) {
	return browser.call(postReport, {
		path: `/api/rooms/${roomId}/reports`,
		params: { id: roomId },
		json,
		headers
	});
}

async function answer(outcome: Outcome): Promise<{ status: number; body: unknown }> {
	if (outcome.kind !== 'response')
		throw new Error(`expected a response: ${JSON.stringify(outcome)}`);
	return { status: outcome.response.status, body: await outcome.response.json() };
}

async function reportsOf(browser: TestBrowser, roomId: string, query = ''): Promise<ReportsData> {
	const outcome = await browser.call(load, {
		path: `/rooms/${roomId}/details?tab=reports${query}`,
		params: { id: roomId }
	});
	if (outcome.kind !== 'data') throw new Error(`expected data, got ${JSON.stringify(outcome)}`);
	return (outcome.data as { reports: ReportsData }).reports;
}

function act(
	browser: TestBrowser,
	roomId: string,
	action: 'resolveReport' | 'deleteReportedMessage',
	form: Record<string, string>
) {
	return browser.call(actions[action]!, {
		path: `/rooms/${roomId}/details?/${action}`,
		params: { id: roomId },
		form
	});
}

const backToReports = (roomId: string) => ({
	kind: 'redirect',
	status: 303,
	location: `/rooms/${roomId}/details?tab=reports`
});

describe('the report endpoint', () => {
	it('takes a member’s report of a message, and refuses bad input and other sites', async () => {
		const { people, roomId, browsers } = await world();
		const seq = await say(roomId, people.cy, 'buy watches');
		expect(
			await answer(
				await report(browsers.dee, roomId, { seq, reason: 'hate', details: 'x'.repeat(1001) })
			)
		).toMatchObject({ status: 400, body: { error: { code: 'bad_input' } } });
		expect(await answer(await report(browsers.dee, roomId, { reason: 'spam' }))).toMatchObject({
			status: 400
		});
		expect(
			await answer(
				await report(browsers.dee, roomId, { seq, reason: 'spam' }, { origin: 'https://evil.test' })
			)
		).toMatchObject({ status: 403 });
		expect(await answer(await report(browsers.sam, roomId, { seq, reason: 'spam' }))).toMatchObject(
			{ status: 404 }
		);
		expect(await db().select().from(reports).where(eq(reports.roomId, roomId))).toEqual([]);

		const made = await answer(await report(browsers.dee, roomId, { seq, reason: 'spam' }));
		expect(made.status).toBe(201);
		const [stored] = (await listReports(db(), { roomId })).reports;
		expect(made.body).toEqual({ id: stored!.id });
		expect(stored).toMatchObject({ reporter: { id: people.dee.id }, message: { seq } });
	});
});

describe('the Reports section', () => {
	it('shows the owner and the admins the room’s reports in context, no one else', async () => {
		const { people, roomId, browsers } = await world();
		await say(roomId, people.ana, 'hello all');
		const seq = await say(roomId, people.cy, 'you are all fools');
		await say(roomId, people.dee, 'rude');
		expect(
			(await answer(await report(browsers.dee, roomId, { seq, reason: 'harassment' }))).status
		).toBe(201);

		for (const admin of [browsers.ana, browsers.ben]) {
			const data = await reportsOf(admin, roomId);
			expect(data?.status).toBe('open');
			expect(data?.reports).toHaveLength(1);
			const [shown] = data!.reports;
			expect(shown).toMatchObject({
				reasonLabel: 'Harassment or bullying',
				reporter: { id: people.dee.id },
				reported: { id: people.cy.id },
				message: { seq, body: 'you are all fools', deletedNow: false }
			});
			expect(shown!.context.map((line) => [line.senderName, line.body, line.reported])).toEqual([
				['Ana', 'hello all', false],
				['Cy', 'you are all fools', true],
				['Dee', 'rude', false]
			]);
		}
		expect(await reportsOf(browsers.cy, roomId)).toBeNull();
		expect(await reportsOf(browsers.dee, roomId)).toBeNull();
		const stranger = await browsers.sam.call(load, {
			path: `/rooms/${roomId}/details?tab=reports`,
			params: { id: roomId }
		});
		expect(stranger).toMatchObject({ kind: 'error', status: 404 });
	});

	it('dismisses a report, for the owner and admins only; the resolved list shows it', async () => {
		const { people, roomId, browsers } = await world();
		const seq = await say(roomId, people.cy, 'meh');
		await report(browsers.dee, roomId, { seq, reason: 'other', details: 'odd' });
		const [open] = (await reportsOf(browsers.ana, roomId))!.reports;

		const refused = await act(browsers.dee, roomId, 'resolveReport', { reportId: open!.id });
		expect(refused).toMatchObject({ kind: 'failure', status: 403 });
		expect(await act(browsers.sam, roomId, 'resolveReport', { reportId: open!.id })).toMatchObject({
			kind: 'failure',
			status: 404
		});
		expect(await act(browsers.ben, roomId, 'resolveReport', { reportId: open!.id })).toEqual(
			backToReports(roomId)
		);
		expect((await reportsOf(browsers.ana, roomId))!.reports).toEqual([]);
		const resolved = await reportsOf(browsers.ana, roomId, '&reports=resolved');
		expect(resolved?.status).toBe('resolved');
		expect(resolved?.reports[0]).toMatchObject({
			id: open!.id,
			resolution: 'dismissed',
			resolvedBy: { id: people.ben.id }
		});
	});

	it('deletes the reported message as a moderator and resolves the report', async () => {
		const { people, roomId, browsers } = await world();
		const seq = await say(roomId, people.cy, 'delete this');
		await report(browsers.dee, roomId, { seq, reason: 'spam' });
		const [open] = (await reportsOf(browsers.ana, roomId))!.reports;
		expect(
			await act(browsers.dee, roomId, 'deleteReportedMessage', { reportId: open!.id })
		).toMatchObject({ kind: 'failure', status: 403 });
		expect(
			await act(browsers.ana, roomId, 'deleteReportedMessage', { reportId: open!.id })
		).toEqual(backToReports(roomId));
		const [done] = (await reportsOf(browsers.ana, roomId, '&reports=resolved'))!.reports;
		expect(done).toMatchObject({ resolution: 'message_deleted', message: { body: 'delete this' } });
		expect(done!.context.find((line) => line.seq === seq)).toMatchObject({
			deleted: true,
			body: ''
		});
	});

	it('is not in a direct conversation, where only the site’s admins handle reports', async () => {
		const { people, browsers } = await world();
		await befriend(people.cy, people.dee);
		const direct = await findOrCreateDirectRoom(db(), people.cy.id, people.dee.id);
		if (!direct.ok) throw new Error(direct.message);
		const seq = await say(direct.roomId, people.cy, 'psst');
		const made = await answer(await report(browsers.dee, direct.roomId, { seq, reason: 'sexual' }));
		expect(made.status).toBe(201);
		const { id } = made.body as { id: string };
		for (const browser of [browsers.cy, browsers.dee]) {
			expect(await reportsOf(browser, direct.roomId)).toBeNull();
			expect(await act(browser, direct.roomId, 'resolveReport', { reportId: id })).toMatchObject({
				kind: 'failure',
				status: 403
			});
		}
	});
});

describe('reporting a person from their profile', () => {
	it('thanks the reporter, and refuses a report without a reason', async () => {
		const { people, browsers } = await world();
		const call = (form: Record<string, string>) =>
			browsers.dee.call(profileActions.report!, {
				path: `/u/${people.cy.username}?/report`,
				params: { username: people.cy.username },
				form
			});
		expect(await call({ details: 'no reason' })).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { report: true, message: 'Choose a reason from the list.' }
		});
		expect(await call({ reason: 'harassment', details: 'keeps messaging me' })).toEqual({
			kind: 'data',
			data: { reported: true }
		});
		const mine = (await listReports(db(), { all: true })).reports.filter(
			(r) => r.reporter?.id === people.dee.id
		);
		expect(mine).toMatchObject([
			{ room: null, reported: { id: people.cy.id }, details: 'keeps messaging me' }
		]);
	});
});
