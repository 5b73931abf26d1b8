// Reports: anyone may report a message they can read, or a person, with a reason and a few words.
// A room's owner and admins see and handle the reports about their room; site admins see all of
// them, and alone handle reports of a person or of a direct conversation (no room admin has a say
// there). A report keeps the message's text as it was reported, so that an edit or a deletion
// cannot hide what was reported.
import { and, desc, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/sqlite-core';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { messages, reports, rooms, users } from '$shared/db/schema';
import { ATTACHMENT_MARK, MAX_MESSAGE_LENGTH, type ChatMessage } from '$shared/protocol';
import { SEALED_PREVIEW } from '$shared/preview';
import { roomStub } from '$shared/objects';
import { generateId } from '$lib/server/ids';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import {
	authorizeRoom,
	decideRoom,
	type RoomAccess,
	type RoomAction
} from '$lib/server/rooms/authz';
import { readHistory, readHistoryAround } from '$lib/server/rooms/history';
import { consumeRateLimits, describeWait, RateLimits } from '$lib/server/rate-limit';
import { parseTimeCursor, timeCursorOf } from '$lib/server/time-cursor';
import { findPersonId } from '$lib/server/people/people';
import type { Realtime } from '$lib/server/realtime/effects';
import type { SessionUser } from '$lib/server/auth/session';
import { changeRoom } from '$lib/server/api/room-changes';
import { ApiError } from '$lib/server/api/endpoint';
import { auditStatement } from './audit';
import {
	MAX_REPORT_DETAILS,
	REPORT_REASONS,
	REPORT_RESOLUTIONS,
	type Reason,
	type Resolution
} from '$lib/reports';

export { MAX_REPORT_DETAILS, REPORT_REASONS, REPORT_RESOLUTIONS, type Reason, type Resolution };

// The labels' reasons are the schema's, both ways: a reason added to one must be added to the other.
type StoredReason = (typeof reports.$inferSelect)['reason'];
const sameReasons: [StoredReason, Reason] extends [Reason, StoredReason] ? true : never = true;
void sameReasons;

/** Reports per page of a list. */
export const REPORTS_PAGE_SIZE = 50;

/** Who may handle a room's reports: whoever may ban from it (its owner and admins). */
const MODERATE: RoomAction = 'ban';

/** Whether this person sees and handles the room's reports (its details page asks). */
export function handlesRoomReports(access: RoomAccess): boolean {
	return access.room?.kind !== 'direct' && decideRoom(access, MODERATE).ok;
}

const Details = v.optional(
	v.pipe(
		v.string('Details must be text.'),
		v.trim(),
		v.maxLength(
			MAX_REPORT_DETAILS,
			`Keep the details to ${MAX_REPORT_DETAILS} characters or fewer.`
		)
	),
	''
);

/** What a reporter sends: a reason from the list, and optionally a few words. */
export const ReportInput = v.object(
	{
		reason: v.picklist(Object.keys(REPORT_REASONS) as Reason[], 'Choose a reason from the list.'),
		details: Details,
		/**
		 * An end-to-end encrypted message's words, as the reporter's device decrypted them: the server
		 * cannot read them, so the report keeps them marked as the reporter's (docs/e2ee.md).
		 */
		decrypted: v.optional(v.pipe(v.string(), v.maxLength(MAX_MESSAGE_LENGTH)))
	},
	'Choose a reason from the list.'
);

const ResolveInput = v.object({
	resolution: v.picklist(
		Object.keys(REPORT_RESOLUTIONS) as Resolution[],
		'Choose what was done about the report.'
	),
	note: v.optional(
		v.pipe(
			v.string(),
			v.trim(),
			v.maxLength(MAX_REPORT_DETAILS, `Keep the note to ${MAX_REPORT_DETAILS} characters or fewer.`)
		),
		''
	)
});

export type PersonRef = { id: string; username: string; displayName: string };

export type ReportView = {
	id: string;
	reason: Reason;
	reasonLabel: string;
	details: string;
	createdAt: number;
	status: 'open' | 'resolved';
	reporter: PersonRef | null;
	reported: PersonRef | null;
	room: { id: string; name: string; kind: 'direct' | 'group' | 'public' } | null;
	/** The message reported: its text as it was then, and whether it is deleted now (per D1). */
	message: { seq: number; body: string; deletedNow: boolean } | null;
	resolvedBy: PersonRef | null;
	resolvedAt: number | null;
	/** What was done (`dismissed`, `message_deleted`, `user_suspended`). */
	resolution: string | null;
	/** The handler's note on what was done, '' for none. */
	resolutionNote: string;
};

function parseInput(input: unknown): Done<{ reason: Reason; details: string; decrypted?: string }> {
	const parsed = v.safeParse(ReportInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	return { ok: true, ...parsed.output };
}

async function withinRate(db: Db, reporterId: string): Promise<Done> {
	const rate = await consumeRateLimits(db, [[RateLimits.reportsPerPerson, reporterId]]);
	if (rate.ok) return { ok: true };
	return deny(
		409,
		'too_many',
		`You have sent many reports lately. Try again in ${describeWait(rate.retryAfterSeconds)}.`
	);
}

/** What a report of an encrypted message says above the words its reporter's device read. */
export const DECRYPTED_BY_REPORTER =
	'🔒 End-to-end encrypted: these words are as the reporter’s device decrypted them; the server cannot check them.';

/**
 * The words of a message as a report keeps them: its text, and the names of its files. An
 * encrypted message's are those the reporter's device decrypted, marked as such, if it sent them.
 */
function snapshotOf(message: ChatMessage, decrypted: string | undefined): string {
	if (message.kind === 'sealed') {
		return decrypted?.trim() ? `${DECRYPTED_BY_REPORTER}\n${decrypted}` : SEALED_PREVIEW;
	}
	const files = (message.attachments ?? []).map((file) => `${ATTACHMENT_MARK} ${file.name}`);
	return [message.body, ...files].filter((line) => line.trim() !== '').join('\n');
}

/**
 * Files the report, or, when the reporter reported the same thing before, opens that report again
 * with the new reason and details. One statement, on the unique index of what it is about, so two
 * reports sent at once still make one.
 */
async function reopenOrInsert(
	db: Db,
	about: 'message' | 'person',
	row: Omit<typeof reports.$inferInsert, 'id'>
): Promise<{ id: string }> {
	const [saved] = await db
		.insert(reports)
		.values({ id: generateId(), ...row })
		.onConflictDoUpdate({
			target:
				about === 'message'
					? [reports.reporterId, reports.roomId, reports.messageSeq]
					: [reports.reporterId, reports.reportedUserId],
			targetWhere:
				about === 'message'
					? sql`${reports.messageSeq} IS NOT NULL`
					: sql`${reports.roomId} IS NULL`,
			// The text first reported is kept: an edit in between must not wash the evidence.
			set: {
				reason: row.reason,
				details: row.details,
				createdAt: row.createdAt,
				status: 'open',
				resolvedBy: null,
				resolvedAt: null,
				resolution: null
			}
		})
		.returning({ id: reports.id });
	return saved!;
}

/**
 * Reports a message of a room the reporter can read. The message is read as the history reads it
 * (D1 and the room's not yet flushed tail), so a message sent a moment ago can be reported too.
 * Reporting the same message again updates the first report and opens it again.
 */
export async function reportMessage(
	db: Db,
	reporter: Actor,
	roomId: string,
	seq: number,
	input: unknown,
	rt: Realtime
): Promise<Done<{ id: string }>> {
	const parsed = parseInput(input);
	if (!parsed.ok) return parsed;
	const access = await authorizeRoom(db, reporter.id, roomId, 'read');
	if (!access.ok) return access;
	if (!Number.isSafeInteger(seq) || seq < 1) {
		return deny(404, 'not_found', 'There is no such message.');
	}
	const page = await readHistory(db, roomStub(rt.rooms, roomId), roomId, { after: seq - 1 }, 1);
	const message = page.messages.find((m) => m.seq === seq);
	if (!message) return deny(404, 'not_found', 'There is no such message.');
	if (message.kind === 'system') {
		return deny(400, 'bad_target', 'Only messages people (or bots) sent can be reported.');
	}
	if (message.deletedAt !== undefined) {
		return deny(409, 'bad_target', 'That message was deleted already.');
	}
	if (message.senderId === reporter.id) {
		return deny(400, 'self', "You can't report your own message.");
	}
	const rate = await withinRate(db, reporter.id);
	if (!rate.ok) return rate;
	// A deleted account's row stays, so its id still names someone a report can point at.
	const [sender] = message.senderId
		? await db.select({ id: users.id }).from(users).where(eq(users.id, message.senderId)).limit(1)
		: [];
	const saved = await reopenOrInsert(db, 'message', {
		reporterId: reporter.id,
		roomId,
		messageSeq: seq,
		reportedUserId: sender?.id ?? null,
		reason: parsed.reason,
		details: parsed.details,
		messageBody: snapshotOf(message, parsed.decrypted),
		createdAt: Date.now(),
		status: 'open'
	});
	return { ok: true, id: saved.id };
}

/**
 * Reports a person, by username: for the site's admins, since no room is concerned. Reporting the
 * same person again updates the first report and opens it again.
 */
export async function reportPerson(
	db: Db,
	reporter: Actor,
	username: string,
	input: unknown
): Promise<Done<{ id: string }>> {
	const parsed = parseInput(input);
	if (!parsed.ok) return parsed;
	const personId = await findPersonId(db, username);
	if (!personId) return deny(404, 'not_found', 'There is no such person.');
	if (personId === reporter.id) return deny(400, 'self', "You can't report yourself.");
	const rate = await withinRate(db, reporter.id);
	if (!rate.ok) return rate;
	const saved = await reopenOrInsert(db, 'person', {
		reporterId: reporter.id,
		roomId: null,
		messageSeq: null,
		reportedUserId: personId,
		reason: parsed.reason,
		details: parsed.details,
		messageBody: null,
		createdAt: Date.now(),
		status: 'open'
	});
	return { ok: true, id: saved.id };
}

const reporter = alias(users, 'reporter');
const reported = alias(users, 'reported');
const resolver = alias(users, 'resolver');

type Ref = { id: string | null; username: string | null; displayName: string | null };

/** A left-joined person: drizzle answers null, or all-null columns, when there is none. */
function refOf(row: Ref | null): PersonRef | null {
	return row?.id && row.username !== null && row.displayName !== null
		? { id: row.id, username: row.username, displayName: row.displayName }
		: null;
}

/** The resolution column holds what was done and, after `: `, the handler's note. */
function splitResolution(stored: string | null): { resolution: string | null; note: string } {
	if (stored === null) return { resolution: null, note: '' };
	const at = stored.indexOf(': ');
	return at < 0
		? { resolution: stored, note: '' }
		: { resolution: stored.slice(0, at), note: stored.slice(at + 2) };
}

/**
 * A page of reports, newest first: one room's, or all of them. No authorization here: the caller
 * has checked that the reader is the room's owner or admin, or a site admin.
 */
export async function listReports(
	db: Db,
	scope: { roomId: string } | { all: true },
	options: { status?: 'open' | 'resolved'; cursor?: string | null; limit?: number } = {}
): Promise<{ reports: ReportView[]; nextCursor: string | null }> {
	const limit = options.limit ?? REPORTS_PAGE_SIZE;
	const conditions: (SQL | undefined)[] = [];
	if ('roomId' in scope) conditions.push(eq(reports.roomId, scope.roomId));
	if (options.status) conditions.push(eq(reports.status, options.status));
	const after = options.cursor ? parseTimeCursor(options.cursor) : null;
	if (after) {
		conditions.push(
			or(
				lt(reports.createdAt, after.at),
				and(eq(reports.createdAt, after.at), lt(reports.id, after.id))
			)
		);
	}
	const rows = await db
		.select({
			report: reports,
			reporter: { id: reporter.id, username: reporter.username, displayName: reporter.displayName },
			reported: { id: reported.id, username: reported.username, displayName: reported.displayName },
			resolver: { id: resolver.id, username: resolver.username, displayName: resolver.displayName },
			room: { id: rooms.id, name: rooms.name, kind: rooms.kind },
			messageDeletedAt: messages.deletedAt
		})
		.from(reports)
		.leftJoin(reporter, eq(reporter.id, reports.reporterId))
		.leftJoin(reported, eq(reported.id, reports.reportedUserId))
		.leftJoin(resolver, eq(resolver.id, reports.resolvedBy))
		.leftJoin(rooms, eq(rooms.id, reports.roomId))
		.leftJoin(
			messages,
			and(eq(messages.roomId, reports.roomId), eq(messages.seq, reports.messageSeq))
		)
		.where(and(...conditions))
		.orderBy(desc(reports.createdAt), desc(reports.id))
		.limit(limit + 1);
	const page = rows.slice(0, limit).map((row): ReportView => {
		const { report } = row;
		const { resolution, note } = splitResolution(report.resolution);
		return {
			id: report.id,
			reason: report.reason,
			reasonLabel: REPORT_REASONS[report.reason],
			details: report.details,
			createdAt: report.createdAt,
			status: report.status,
			reporter: refOf(row.reporter),
			reported: refOf(row.reported),
			room: row.room?.id
				? {
						id: row.room.id,
						// A direct room has no name of its own: each side sees it named after the other.
						name: row.room.kind === 'direct' ? 'Direct conversation' : row.room.name,
						kind: row.room.kind
					}
				: null,
			message:
				report.messageSeq !== null
					? {
							seq: report.messageSeq,
							body: report.messageBody ?? '',
							deletedNow: row.messageDeletedAt !== null
						}
					: null,
			resolvedBy: refOf(row.resolver),
			resolvedAt: report.resolvedAt,
			resolution,
			resolutionNote: note
		};
	});
	const last = page.at(-1);
	return {
		reports: page,
		nextCursor:
			rows.length > limit && last ? timeCursorOf({ at: last.createdAt, id: last.id }) : null
	};
}

/** One line of the conversation around a reported message. */
export type ContextLine = {
	seq: number;
	senderName: string;
	body: string;
	createdAt: number;
	system: boolean;
	deleted: boolean;
	/** The reported message itself. */
	reported: boolean;
};

/**
 * The few messages before and after a reported one, as they stand now (an edited or deleted
 * message shows as such), for the people handling the report. Empty for a report of a person.
 */
export async function reportContext(
	db: Db,
	rt: Realtime,
	report: Pick<ReportView, 'room' | 'message'>,
	around = 3
): Promise<ContextLine[]> {
	if (!report.room || !report.message) return [];
	const { seq } = report.message;
	const roomId = report.room.id;
	const window = await readHistoryAround(
		db,
		roomStub(rt.rooms, roomId),
		roomId,
		seq,
		around * 2 + 1
	);
	return window.messages.map((m) => ({
		seq: m.seq,
		senderName: m.senderName,
		body: m.deletedAt !== undefined ? '' : snapshotOf(m, undefined),
		createdAt: m.createdAt,
		system: m.kind === 'system',
		deleted: m.deletedAt !== undefined,
		reported: m.seq === seq
	}));
}

/** One room's reports with the conversation around each, for its owner and admins. */
export async function listRoomReports(
	db: Db,
	rt: Realtime,
	roomId: string,
	options: { status?: 'open' | 'resolved'; cursor?: string | null; limit?: number } = {}
): Promise<{ reports: (ReportView & { context: ContextLine[] })[]; nextCursor: string | null }> {
	const page = await listReports(db, { roomId }, options);
	const withContext = await Promise.all(
		page.reports.map(async (report) => ({
			...report,
			context: await reportContext(db, rt, report)
		}))
	);
	return { reports: withContext, nextCursor: page.nextCursor };
}

async function findReport(db: Db, reportId: string) {
	const [row] = await db
		.select({
			id: reports.id,
			roomId: reports.roomId,
			messageSeq: reports.messageSeq,
			status: reports.status,
			kind: rooms.kind
		})
		.from(reports)
		.leftJoin(rooms, eq(rooms.id, reports.roomId))
		.where(eq(reports.id, reportId))
		.limit(1);
	return row ?? null;
}

const NO_REPORT = deny(404, 'not_found', 'There is no such report.');

/**
 * May `actor` handle this report as a room admin: it is about a group or public room they own or
 * administer. A report of a person, or from a direct conversation, is for the site's admins.
 */
async function authorizeRoomAdmin(
	db: Db,
	actorId: string,
	report: { roomId: string | null; kind: string | null }
): Promise<Done<{ role: 'owner' | 'admin' | 'member' }>> {
	if (!report.roomId || report.kind === 'direct') {
		return deny(403, 'forbidden', "Only the site's admins handle this report.");
	}
	const access = await authorizeRoom(db, actorId, report.roomId, MODERATE);
	if (!access.ok) {
		// Whoever can't see the room must not learn that a report about it exists.
		return access.status === 404 ? NO_REPORT : access;
	}
	return { ok: true, role: access.membership!.role };
}

/**
 * Closes a report, saying what was done, and records it in the audit log in the same step. As a
 * room admin, the actor must own or administer the report's room; as a site admin, the caller has
 * checked that they are one.
 */
export async function resolveReport(
	db: Db,
	actor: Actor,
	reportId: string,
	input: { resolution: Resolution; note?: string },
	as: 'site_admin' | 'room_admin'
): Promise<Done> {
	const parsed = v.safeParse(ResolveInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const report = await findReport(db, reportId);
	if (!report) return NO_REPORT;
	if (as === 'room_admin') {
		const allowed = await authorizeRoomAdmin(db, actor.id, report);
		if (!allowed.ok) return allowed;
	}
	if (report.status === 'resolved') {
		return deny(409, 'bad_target', 'This report was resolved already.');
	}
	const { resolution, note } = parsed.output;
	const now = Date.now();
	await db.batch([
		db
			.update(reports)
			.set({
				status: 'resolved',
				resolvedBy: actor.id,
				resolvedAt: now,
				resolution: note ? `${resolution}: ${note}` : resolution
			})
			.where(eq(reports.id, report.id)),
		auditStatement(
			db,
			{
				actorId: actor.id,
				actorRole: as,
				action: 'report.resolve',
				targetKind: 'report',
				targetId: report.id,
				roomId: report.roomId,
				reason: note,
				details: {
					resolution,
					note,
					...(report.messageSeq !== null ? { seq: report.messageSeq } : {})
				}
			},
			now
		)
	]);
	return { ok: true };
}

/**
 * A room admin deletes the reported message (through the room, as any moderator's delete, so
 * every open tab sees it go) and the report is resolved as `message_deleted`.
 */
export async function deleteReportedMessage(
	db: Db,
	env: Env,
	actor: SessionUser,
	reportId: string,
	note = ''
): Promise<Done> {
	const report = await findReport(db, reportId);
	if (!report) return NO_REPORT;
	const allowed = await authorizeRoomAdmin(db, actor.id, report);
	if (!allowed.ok) return allowed;
	if (report.messageSeq === null) {
		return deny(400, 'bad_target', 'This report is about a person, not a message.');
	}
	if (report.status === 'resolved') {
		return deny(409, 'bad_target', 'This report was resolved already.');
	}
	try {
		await changeRoom(env, actor, report.roomId!, allowed.role, {
			type: 'delete',
			seq: report.messageSeq
		});
	} catch (err) {
		if (!(err instanceof ApiError)) throw err;
		// Gone from the room altogether (never stored, or the room's history was cleared): there
		// is nothing left to delete, and the report can still be closed.
		if (err.status === 429) return deny(409, 'too_many', err.message);
		if (err.status === 403) return deny(403, 'forbidden', err.message);
		if (err.status !== 404) throw err;
	}
	return resolveReport(db, actor, report.id, { resolution: 'message_deleted', note }, 'room_admin');
}
