// Invite links for groups (and public rooms): a random code shown once, stored only as its hash,
// optionally expiring and limited in uses, revocable by admins.
import { DEFAULT_E2EE_MAX_MEMBERS, encryptedRoomFull } from '$lib/server/e2ee/rooms';
import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { authorizeRoom, loadRoomAccess } from './authz';
import { deny, type Actor, type Denial, type Done } from '$lib/server/outcome';
import { auditStatement, recordAudit, type AuditEntry } from '$lib/server/moderation/audit';
import type { Db } from '$lib/server/db';
import { roomInvites, rooms, users } from '$shared/db/schema';
import { generateSecretToken, hashSecret } from '$lib/server/ids';
import { grantMembership, type Room } from './rooms';
import { notifyUser, postSystemMessage, type Realtime } from '$lib/server/realtime/effects';

const HOUR = 60 * 60 * 1000;
/** The choices offered when creating a link; `null` never expires. */
export const INVITE_LIFETIMES = { '1h': HOUR, '1d': 24 * HOUR, '7d': 7 * 24 * HOUR, never: null };
export type InviteLifetime = keyof typeof INVITE_LIFETIMES;
export const MAX_INVITE_USES = 1000;

export type InviteState = 'active' | 'expired' | 'revoked' | 'used_up';
export type InviteSummary = {
	id: string;
	createdAt: number;
	createdByName: string;
	expiresAt: number | null;
	maxUses: number | null;
	uses: number;
	state: InviteState;
};

type InviteRow = typeof roomInvites.$inferSelect;

/** An invite link made or revoked, for the audit log (named by its id, never its code). */
function inviteAudit(
	actorId: string,
	roomId: string,
	inviteId: string,
	action: string,
	details: Record<string, unknown> = {}
): AuditEntry {
	return {
		actorId,
		actorRole: 'room_admin',
		action,
		targetKind: 'room',
		targetId: roomId,
		roomId,
		details: { invite: inviteId.slice(0, 12), ...details }
	};
}

export async function createInvite(
	db: Db,
	actor: Pick<Actor, 'id'>,
	roomId: string,
	options: { lifetime: InviteLifetime; maxUses: number | null }
): Promise<Done<{ code: string }>> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'manage_invites');
	if (!auth.ok) return auth;
	const code = generateSecretToken();
	const now = Date.now();
	const lifetime = INVITE_LIFETIMES[options.lifetime];
	const id = hashSecret(code);
	await db.batch([
		db.insert(roomInvites).values({
			id,
			roomId,
			createdBy: actor.id,
			createdAt: now,
			expiresAt: lifetime === null ? null : now + lifetime,
			maxUses: options.maxUses
		}),
		auditStatement(db, inviteAudit(actor.id, roomId, id, 'invite.create', options), now)
	]);
	return { ok: true, code };
}

export async function listInvites(db: Db, roomId: string): Promise<InviteSummary[]> {
	const rows = await db
		.select({ invite: roomInvites, createdByName: users.displayName })
		.from(roomInvites)
		.leftJoin(users, eq(users.id, roomInvites.createdBy))
		.where(eq(roomInvites.roomId, roomId))
		.orderBy(desc(roomInvites.createdAt))
		.limit(50);
	const now = Date.now();
	return rows.map(({ invite, createdByName }) => ({
		// The hash is the row's id; it names the link without revealing the code.
		id: invite.id,
		createdAt: invite.createdAt,
		createdByName: createdByName ?? 'Deleted user',
		expiresAt: invite.expiresAt,
		maxUses: invite.maxUses,
		uses: invite.uses,
		state: stateOf(invite, now)
	}));
}

export async function revokeInvite(
	db: Db,
	actor: Pick<Actor, 'id'>,
	roomId: string,
	inviteId: string
): Promise<Done> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'manage_invites');
	if (!auth.ok) return auth;
	const revoked = await db
		.update(roomInvites)
		.set({ revokedAt: Date.now() })
		.where(
			and(
				eq(roomInvites.id, inviteId),
				eq(roomInvites.roomId, roomId),
				isNull(roomInvites.revokedAt)
			)
		)
		.returning({ id: roomInvites.id });
	if (revoked.length === 0)
		return deny(404, 'bad_target', 'That link is unknown or already revoked.');
	await recordAudit(db, inviteAudit(actor.id, roomId, inviteId, 'invite.revoke'));
	return { ok: true };
}

/** What an invite link leads to, or why it no longer works. */
export async function inspectInvite(
	db: Db,
	code: string
): Promise<Done<{ invite: InviteRow; room: Room }>> {
	const [row] = await db
		.select({ invite: roomInvites, room: rooms })
		.from(roomInvites)
		.innerJoin(rooms, eq(rooms.id, roomInvites.roomId))
		.where(eq(roomInvites.id, hashSecret(code)))
		.limit(1);
	if (!row) return deny(404, 'invite_invalid', 'This invite link is not valid.');
	const refusal = refusalFor(stateOf(row.invite, Date.now()));
	return refusal ?? { ok: true, invite: row.invite, room: row.room };
}

/**
 * Joins the room through the link. A member following it again just arrives; anyone else uses one
 * of its uses, counted by a conditional update so a link limited to N uses admits N people even
 * when they click at the same moment.
 */
export async function redeemInvite(
	db: Db,
	rt: Realtime,
	actor: Actor,
	code: string,
	e2eeMax = DEFAULT_E2EE_MAX_MEMBERS
): Promise<Done<{ roomId: string }>> {
	const found = await inspectInvite(db, code);
	if (!found.ok) return found;
	const roomId = found.room.id;
	const access = await loadRoomAccess(db, roomId, actor.id);
	if (access.banned) return deny(403, 'banned', 'You are banned from this room.');
	if (access.membership) return { ok: true, roomId };
	const full = access.room && encryptedRoomFull(access.room, e2eeMax);
	if (full) return full;

	const now = Date.now();
	const used = await db
		.update(roomInvites)
		.set({ uses: sql`${roomInvites.uses} + 1` })
		.where(
			and(
				eq(roomInvites.id, found.invite.id),
				isNull(roomInvites.revokedAt),
				or(isNull(roomInvites.expiresAt), gt(roomInvites.expiresAt, now)),
				or(isNull(roomInvites.maxUses), lt(roomInvites.uses, roomInvites.maxUses))
			)
		)
		.returning({ id: roomInvites.id });
	if (used.length === 0) {
		// Changed since it was inspected: say what it is now.
		const again = await inspectInvite(db, code);
		return again.ok ? deny(410, 'invite_used_up', 'This invite link has been used up.') : again;
	}
	if (await grantMembership(db, roomId, actor.id)) {
		await Promise.all([
			postSystemMessage(rt, roomId, actor, `${actor.displayName} joined with an invite link`),
			notifyUser(rt, actor.id, { type: 'membership', roomId, change: 'added' })
		]);
	}
	return { ok: true, roomId };
}

function stateOf(invite: InviteRow, now: number): InviteState {
	if (invite.revokedAt !== null) return 'revoked';
	if (invite.expiresAt !== null && invite.expiresAt <= now) return 'expired';
	if (invite.maxUses !== null && invite.uses >= invite.maxUses) return 'used_up';
	return 'active';
}

function refusalFor(state: InviteState): Denial | null {
	switch (state) {
		case 'revoked':
			return deny(410, 'invite_revoked', 'This invite link was revoked.');
		case 'expired':
			return deny(410, 'invite_expired', 'This invite link has expired.');
		case 'used_up':
			return deny(410, 'invite_used_up', 'This invite link has been used up.');
		case 'active':
			return null;
	}
}
