// The audit log: every site admin action, and every moderation action of a room's owner or admins
// (removing, banning, roles, timing out, slow mode, deleting others' messages, handling reports),
// kept in D1 as who did what to what, where, when and why. Written in the same step as the action
// where the action is one D1 write (`auditStatement` in its batch), after it otherwise.
import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { auditLog } from '$shared/db/schema';
import { generateId } from '$lib/server/ids';
import { messageDeletionAuditId } from '$shared/audit';
import { parseTimeCursor, timeCursorOf } from '$lib/server/time-cursor';

export type AuditEntry = {
	actorId: string;
	actorRole: (typeof auditLog.$inferSelect)['actorRole'];
	/** `<target>.<verb>`: `user.suspend`, `member.ban`, `message.delete`, `report.resolve`… */
	action: string;
	targetKind: (typeof auditLog.$inferSelect)['targetKind'];
	targetId: string;
	roomId?: string | null;
	reason?: string;
	details?: Record<string, unknown>;
};

export type AuditRow = typeof auditLog.$inferSelect;

/** Entries per page of the log. */
export const AUDIT_PAGE_SIZE = 50;

/** The insert of one entry, to run in the batch of the action it records. */
export function auditStatement(db: Db, entry: AuditEntry, now = Date.now()) {
	return db.insert(auditLog).values({
		id: generateId(),
		actorId: entry.actorId,
		actorRole: entry.actorRole,
		action: entry.action,
		targetKind: entry.targetKind,
		targetId: entry.targetId,
		roomId: entry.roomId ?? null,
		reason: entry.reason ?? '',
		details: JSON.stringify(entry.details ?? {}),
		createdAt: now
	});
}

export async function recordAudit(db: Db, entry: AuditEntry, now = Date.now()): Promise<void> {
	await auditStatement(db, entry, now);
}

/**
 * A page of the log, newest first: all of it, or one room's, by a time cursor.
 */
export async function listAudit(
	db: Db,
	options: { roomId?: string; cursor?: string | null; limit?: number } = {}
): Promise<{ entries: AuditRow[]; nextCursor: string | null }> {
	const limit = options.limit ?? AUDIT_PAGE_SIZE;
	const conditions: (SQL | undefined)[] = [];
	if (options.roomId) conditions.push(eq(auditLog.roomId, options.roomId));
	const after = options.cursor ? parseTimeCursor(options.cursor) : null;
	if (after) {
		conditions.push(
			or(
				lt(auditLog.createdAt, after.at),
				and(eq(auditLog.createdAt, after.at), lt(auditLog.id, after.id))
			)
		);
	}
	const rows = await db
		.select()
		.from(auditLog)
		.where(and(...conditions))
		.orderBy(desc(auditLog.createdAt), desc(auditLog.id))
		.limit(limit + 1);
	const entries = rows.slice(0, limit);
	const last = entries.at(-1);
	return {
		entries,
		nextCursor:
			rows.length > limit && last ? timeCursorOf({ at: last.createdAt, id: last.id }) : null
	};
}

/**
 * A site admin removed a message: the room's flush records every moderator's removal as a room
 * admin's under the message's own entry id, so this writes that entry, or makes the one already
 * there say whose it was.
 */
export async function recordSiteAdminMessageDeletion(
	db: Db,
	actorId: string,
	roomId: string,
	seq: number,
	reason: string,
	now = Date.now()
): Promise<void> {
	await db
		.insert(auditLog)
		.values({
			id: messageDeletionAuditId(roomId, seq),
			actorId,
			actorRole: 'site_admin',
			action: 'message.delete',
			targetKind: 'message',
			targetId: `${roomId}:${seq}`,
			roomId,
			reason,
			details: JSON.stringify({ seq }),
			createdAt: now
		})
		.onConflictDoUpdate({
			target: auditLog.id,
			set: { actorId, actorRole: 'site_admin', reason }
		});
}
