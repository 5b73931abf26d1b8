import { fail } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { reports } from '$shared/db/schema';
import { ApiError } from '$lib/server/api/endpoint';
import { changeRoom } from '$lib/server/api/room-changes';
import { deny } from '$lib/server/outcome';
import { listReports, resolveReport } from '$lib/server/moderation/reports';
import { recordSiteAdminMessageDeletion } from '$lib/server/moderation/audit';
import { isSiteAdmin, requireSiteAdmin } from '$lib/server/moderation/site-admin';
import { suspendUser } from '$lib/server/moderation/suspension';
import { field, refuse } from '$lib/server/request-context';
import type { Db } from '$lib/server/db';
import type { Actions, PageServerLoad } from './$types';

const STATUSES = ['open', 'resolved', 'all'] as const;
type Status = (typeof STATUSES)[number];

export const load: PageServerLoad = async (event) => {
	const { db, env, user } = requireSiteAdmin(event);
	const asked = event.url.searchParams.get('status');
	const status: Status = STATUSES.find((s) => s === asked) ?? 'open';
	const page = await listReports(
		db,
		{ all: true },
		{
			status: status === 'all' ? undefined : status,
			cursor: event.url.searchParams.get('cursor')
		}
	);
	return {
		status,
		nextCursor: page.nextCursor,
		reports: page.reports.map((report) => ({
			...report,
			// Whether "suspend" may be offered: not for oneself, nor for a site admin.
			suspendable:
				report.reported !== null &&
				report.reported.id !== user.id &&
				!isSiteAdmin(env, { ...report.reported, email: '' })
		}))
	};
};

async function findReport(db: Db, reportId: string) {
	const [row] = await db
		.select({
			id: reports.id,
			roomId: reports.roomId,
			seq: reports.messageSeq,
			reportedUserId: reports.reportedUserId,
			status: reports.status
		})
		.from(reports)
		.where(eq(reports.id, reportId))
		.limit(1);
	return row ?? null;
}

const NO_REPORT = deny(404, 'not_found', 'There is no such report.');
const RESOLVED = deny(409, 'bad_target', 'This report was resolved already.');

export const actions: Actions = {
	dismiss: async (event) => {
		const { db, user } = requireSiteAdmin(event);
		const form = await event.request.formData();
		const done = await resolveReport(
			db,
			user,
			field(form, 'reportId'),
			{ resolution: 'dismissed', note: field(form, 'note').trim() },
			'site_admin'
		);
		if (!done.ok) return refuse(done);
		return { message: 'Report dismissed.' };
	},

	/**
	 * Deletes the reported message through its room (as any moderator's delete, so open tabs see it
	 * go), though the site admin is no member: the room is told they act as an admin.
	 */
	deleteMessage: async (event) => {
		const { db, env, user } = requireSiteAdmin(event);
		const form = await event.request.formData();
		const note = field(form, 'note').trim();
		const report = await findReport(db, field(form, 'reportId'));
		if (!report) return refuse(NO_REPORT);
		if (report.status === 'resolved') return refuse(RESOLVED);
		if (report.roomId === null || report.seq === null) {
			return refuse(deny(400, 'bad_target', 'This report is about a person, not a message.'));
		}
		try {
			await changeRoom(env, user, report.roomId, 'admin', { type: 'delete', seq: report.seq });
		} catch (err) {
			if (!(err instanceof ApiError)) throw err;
			// Gone from the room already: nothing left to delete, and the report can still close.
			if (err.status !== 404) return fail(err.status, { code: err.code, message: err.message });
		}
		await recordSiteAdminMessageDeletion(db, user.id, report.roomId, report.seq, note);
		const done = await resolveReport(
			db,
			user,
			report.id,
			{ resolution: 'message_deleted', note },
			'site_admin'
		);
		if (!done.ok) return refuse(done);
		return { message: 'Message deleted and report resolved.' };
	},

	suspendAuthor: async (event) => {
		const { db, rt, env, user } = requireSiteAdmin(event);
		const form = await event.request.formData();
		const reason = field(form, 'reason');
		const report = await findReport(db, field(form, 'reportId'));
		if (!report) return refuse(NO_REPORT);
		if (report.status === 'resolved') return refuse(RESOLVED);
		if (!report.reportedUserId) {
			return refuse(deny(400, 'bad_target', 'The reported account no longer exists.'));
		}
		const suspended = await suspendUser(db, rt, user, report.reportedUserId, reason, env);
		if (!suspended.ok) {
			return fail(suspended.status, {
				code: suspended.code,
				message: suspended.message,
				reportId: report.id
			});
		}
		const done = await resolveReport(
			db,
			user,
			report.id,
			{ resolution: 'user_suspended', note: reason.trim() },
			'site_admin'
		);
		if (!done.ok) return refuse(done);
		return { message: 'Account suspended and report resolved.' };
	}
};
