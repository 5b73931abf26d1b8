// Suspending an account: a site admin's answer to someone who must stop now. Everything they have
// open ends at once (sessions, their tabs' room and hub sockets, their API tokens' sockets), and
// every way back in refuses them with the reason (`startSession`, `sessionHolds`,
// `authenticateToken`) until an admin unsuspends them. Nothing else of theirs changes: rooms,
// messages and tokens are all there again afterwards.
import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { apiTokens, sessions, users } from '$shared/db/schema';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import type { Realtime } from '$lib/server/realtime/effects';
import { closeSessionSockets } from '$lib/server/realtime/session-sockets';
import { tokenSessionId } from '$lib/server/api/tokens';
import { auditStatement } from './audit';
import { isSiteAdmin } from './site-admin';

export const MAX_SUSPENSION_REASON_LENGTH = 500;

/** The reason is shown to the person when they try to sign in, so it must say something. */
export const SuspensionReason = v.pipe(
	v.string(),
	v.trim(),
	v.nonEmpty('Give a reason: the person is shown it when they try to sign in.'),
	v.maxLength(
		MAX_SUSPENSION_REASON_LENGTH,
		`Keep the reason to ${MAX_SUSPENSION_REASON_LENGTH} characters.`
	)
);

async function findTarget(db: Db, userId: string) {
	const [user] = await db
		.select({
			id: users.id,
			username: users.username,
			email: users.email,
			kind: users.kind,
			suspendedAt: users.suspendedAt,
			deletedAt: users.deletedAt
		})
		.from(users)
		.where(eq(users.id, userId))
		.limit(1);
	return user && user.deletedAt === null ? user : null;
}

/**
 * Suspends an account (a person's or a bot's) with a reason, which the audit log keeps and the
 * person is told at sign-in. `env` names the site admins, who cannot be suspended: only a change
 * of configuration takes that role away.
 */
export async function suspendUser(
	db: Db,
	rt: Realtime,
	admin: Actor,
	userId: string,
	reason: unknown,
	env: Pick<Env, 'SITE_ADMINS'> | Record<string, unknown>
): Promise<Done> {
	const parsed = v.safeParse(SuspensionReason, reason);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	if (userId === admin.id) return deny(400, 'self', 'You cannot suspend yourself.');
	const target = await findTarget(db, userId);
	if (!target) return deny(404, 'not_found', 'There is no such account.');
	if (target.kind === 'person' && isSiteAdmin(env, target)) {
		return deny(403, 'forbidden', 'A site admin cannot be suspended.');
	}
	if (target.suspendedAt !== null) {
		return deny(409, 'bad_target', `@${target.username} is already suspended.`);
	}
	const now = Date.now();
	const [, ended, tokens] = await db.batch([
		db
			.update(users)
			.set({ suspendedAt: now, suspendedReason: parsed.output, suspendedBy: admin.id })
			.where(eq(users.id, userId)),
		db.delete(sessions).where(eq(sessions.userId, userId)).returning({ id: sessions.id }),
		db.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.userId, userId)),
		auditStatement(
			db,
			{
				actorId: admin.id,
				actorRole: 'site_admin',
				action: 'user.suspend',
				targetKind: 'user',
				targetId: userId,
				reason: parsed.output,
				details: { username: target.username }
			},
			now
		)
	]);
	// Sockets are authenticated only when they open: without this, open tabs (and a bot's token
	// sockets) would keep reading their rooms until they next reconnect.
	await closeSessionSockets(db, rt, userId, [
		...ended.map((s) => s.id),
		...tokens.map((t) => tokenSessionId(t.id))
	]);
	return { ok: true };
}

/** Lifts a suspension: the person may sign in again, and their tokens work again. */
export async function unsuspendUser(
	db: Db,
	admin: Actor,
	userId: string,
	note: unknown = ''
): Promise<Done> {
	const reason = typeof note === 'string' ? note.trim().slice(0, MAX_SUSPENSION_REASON_LENGTH) : '';
	const target = await findTarget(db, userId);
	if (!target) return deny(404, 'not_found', 'There is no such account.');
	if (target.suspendedAt === null) {
		return deny(409, 'bad_target', `@${target.username} is not suspended.`);
	}
	await db.batch([
		db
			.update(users)
			.set({ suspendedAt: null, suspendedReason: null, suspendedBy: null })
			.where(eq(users.id, userId)),
		auditStatement(db, {
			actorId: admin.id,
			actorRole: 'site_admin',
			action: 'user.unsuspend',
			targetKind: 'user',
			targetId: userId,
			reason,
			details: { username: target.username }
		})
	]);
	return { ok: true };
}
