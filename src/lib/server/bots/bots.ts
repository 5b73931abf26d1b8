// Bots: accounts a room's owner or admins make for that room. A bot is a user of kind `bot`, a
// member of its room, marked as a bot wherever it shows; it cannot sign in, and acts only through
// API tokens limited to its room and through its incoming webhook. Everything here is authorized
// as editing the room (`edit`: its owner and admins; never a direct conversation).
import { botsRefused } from '$lib/server/e2ee/rooms';
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { incomingWebhooks, outgoingWebhooks, users } from '$shared/db/schema';
import { generateId, generateSecretToken, hashSecret } from '$lib/server/ids';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { auditBot, authorizeBot } from './authorize';
import { summarizeOutgoingWebhook, type OutgoingWebhookSummary } from './outgoing-webhooks';
import { grantMembership } from '$lib/server/rooms/rooms';
import { removeMember } from '$lib/server/rooms/members';
import {
	announceMember,
	postSystemMessage,
	refreshAudience,
	type Realtime
} from '$lib/server/realtime/effects';
import { pictureUrl } from '$lib/server/files/picture-url';
import { usernameKey } from '$lib/server/accounts/users';
import {
	createToken,
	listTokens,
	revokeToken,
	type TokenLifetime,
	type TokenScope,
	type TokenSummary
} from '$lib/server/api/tokens';

export const MAX_BOTS_PER_ROOM = 10;
export const MAX_BOT_NAME_LENGTH = 40;

export type BotSummary = {
	id: string;
	username: string;
	displayName: string;
	picture: string | null;
	createdAt: number;
	/** Its tokens, as its room's admins manage them (never their secrets). */
	tokens: TokenSummary[];
	/** Its incoming webhook, if it has one (never its address, which is shown once). */
	webhook: { id: string; createdAt: number; lastUsedAt: number | null } | null;
	/** Its outgoing webhook, if it has one (never its secret, which is shown once). */
	outgoing: OutgoingWebhookSummary | null;
};

/** Where an incoming webhook is posted to: its id, and the secret only its holder knows. */
export function webhookPath(hookId: string, secret: string): string {
	return `/api/v1/hooks/${hookId}/${secret}`;
}

/**
 * The bot an incoming webhook's address speaks for, and its room: null for an address that is
 * not one (never made, replaced, deleted, or its bot removed or suspended). Notes its use (once a
 * minute).
 */
export async function webhookBot(
	db: Db,
	hookId: string,
	secret: string,
	now = Date.now()
): Promise<{ bot: typeof users.$inferSelect; roomId: string } | null> {
	const [row] = await db
		.select({ hook: incomingWebhooks, bot: users })
		.from(incomingWebhooks)
		.innerJoin(users, eq(users.id, incomingWebhooks.botId))
		.where(
			and(eq(incomingWebhooks.id, hookId), eq(incomingWebhooks.secretHash, hashSecret(secret)))
		)
		.limit(1);
	// A suspended bot's webhooks are refused, as its tokens are.
	if (!row || row.bot.deletedAt !== null || row.bot.suspendedAt !== null) return null;
	if (row.hook.lastUsedAt === null || now - row.hook.lastUsedAt > 60_000) {
		await db
			.update(incomingWebhooks)
			.set({ lastUsedAt: now })
			.where(eq(incomingWebhooks.id, hookId));
	}
	return { bot: row.bot, roomId: row.hook.roomId };
}

/** The room's bots, oldest first, with their tokens and webhooks. */
export async function listBots(db: Db, roomId: string): Promise<BotSummary[]> {
	const rows = await db
		.select({ bot: users, webhook: incomingWebhooks, outgoing: outgoingWebhooks })
		.from(users)
		.leftJoin(incomingWebhooks, eq(incomingWebhooks.botId, users.id))
		.leftJoin(outgoingWebhooks, eq(outgoingWebhooks.botId, users.id))
		.where(and(eq(users.botRoomId, roomId), isNull(users.deletedAt)))
		.orderBy(asc(users.createdAt));
	return Promise.all(
		rows.map(async ({ bot, webhook, outgoing }) => ({
			id: bot.id,
			username: bot.username,
			displayName: bot.displayName,
			picture: pictureUrl(bot.avatarKey),
			createdAt: bot.createdAt,
			tokens: await listTokens(db, bot.id),
			webhook: webhook && {
				id: webhook.id,
				createdAt: webhook.createdAt,
				lastUsedAt: webhook.lastUsedAt
			},
			outgoing: outgoing && summarizeOutgoingWebhook(outgoing)
		}))
	);
}

/** A free username for a bot called `name`: `<name>_bot`, or with a few random letters after. */
async function botUsername(db: Db, name: string): Promise<string> {
	const slug =
		name
			.toLowerCase()
			.normalize('NFKD')
			.replace(/[^a-z0-9]+/g, '_')
			.replace(/^_+|_+$/g, '')
			.slice(0, 20) || 'room';
	for (const suffix of ['', ...Array.from({ length: 5 }, () => generateId().slice(0, 4))]) {
		const username = `${slug}_bot${suffix && `_${suffix}`}`;
		const [taken] = await db
			.select({ id: users.id })
			.from(users)
			.where(eq(users.usernameKey, usernameKey(username)))
			.limit(1);
		if (!taken) return username;
	}
	return `bot_${generateId()}`.slice(0, 32);
}

/**
 * Makes a bot for the room: an account of kind `bot`, a member of the room, announced in its
 * timeline ("Ana added the bot Deploys"). Its name is what it is shown as.
 */
export async function createBot(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	name: string,
	now = Date.now()
): Promise<Done<{ bot: BotSummary }>> {
	const auth = await authorizeRoom(db, actor.id, roomId, 'edit');
	if (!auth.ok) return auth;
	const refused = botsRefused(auth.room);
	if (refused) return refused;
	const displayName = name.trim();
	if (!displayName || displayName.length > MAX_BOT_NAME_LENGTH) {
		return deny(400, 'bad_input', `Name the bot (at most ${MAX_BOT_NAME_LENGTH} characters).`);
	}
	const [counted] = await db
		.select({ n: count() })
		.from(users)
		.where(and(eq(users.botRoomId, roomId), isNull(users.deletedAt)));
	if ((counted?.n ?? 0) >= MAX_BOTS_PER_ROOM) {
		return deny(409, 'too_many', `A room has at most ${MAX_BOTS_PER_ROOM} bots; remove one first.`);
	}
	const id = generateId();
	const username = await botUsername(db, displayName);
	await db.insert(users).values({
		id,
		// Never a mailbox: `.invalid` is reserved (RFC 2606), and a bot has no password either.
		email: `${id}@bots.invalid`,
		username,
		usernameKey: usernameKey(username),
		displayName,
		passwordHash: null,
		kind: 'bot',
		botRoomId: roomId,
		botCreatedBy: actor.id,
		createdAt: now
	});
	await grantMembership(db, roomId, id);
	await Promise.all([
		auditBot(db, actor, roomId, id, 'bot.create', { name: displayName }),
		postSystemMessage(rt, roomId, actor, `${actor.displayName} added the bot ${displayName}`),
		announceMember(rt, roomId, { userId: id, name: displayName, username, bot: true })
	]);
	const bot: BotSummary = {
		id,
		username,
		displayName,
		picture: null,
		createdAt: now,
		tokens: [],
		webhook: null,
		outgoing: null
	};
	return { ok: true, bot };
}

/** Makes an API token for the bot: limited to its room, shown once. */
export async function createBotToken(
	db: Db,
	actor: Actor,
	roomId: string,
	botId: string,
	input: { scope: TokenScope; lifetime: TokenLifetime }
): Promise<Done<{ token: string; summary: TokenSummary }>> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	const made = await createToken(db, botId, {
		name: `Made by @${actor.username}`,
		scope: input.scope,
		lifetime: input.lifetime,
		rooms: [roomId]
	});
	if (made.ok) await auditBot(db, actor, roomId, botId, 'bot.token_create', { ...input });
	return made;
}

export async function revokeBotToken(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	botId: string,
	tokenId: string
): Promise<Done> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	const revoked = await revokeToken(db, rt, botId, tokenId);
	if (revoked.ok) await auditBot(db, actor, roomId, botId, 'bot.token_revoke', { tokenId });
	return revoked;
}

/**
 * Gives the bot an incoming webhook, replacing the one it had (whose address stops working at
 * once). Answers the new address's path, the only time it is shown.
 */
export async function createIncomingWebhook(
	db: Db,
	actor: Actor,
	roomId: string,
	botId: string,
	now = Date.now()
): Promise<Done<{ path: string }>> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	const id = generateId();
	const secret = generateSecretToken();
	await db.batch([
		db.delete(incomingWebhooks).where(eq(incomingWebhooks.botId, botId)),
		db.insert(incomingWebhooks).values({
			id,
			botId,
			roomId,
			secretHash: hashSecret(secret),
			createdBy: actor.id,
			createdAt: now
		})
	]);
	await auditBot(db, actor, roomId, botId, 'bot.incoming_webhook_create');
	return { ok: true, path: webhookPath(id, secret) };
}

export async function revokeIncomingWebhook(
	db: Db,
	actor: Actor,
	roomId: string,
	botId: string
): Promise<Done> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	await db.delete(incomingWebhooks).where(eq(incomingWebhooks.botId, botId));
	await auditBot(db, actor, roomId, botId, 'bot.incoming_webhook_delete');
	return { ok: true };
}

/**
 * Removes the bot: out of the room as any member is removed (its sockets closed, the timeline
 * told), its tokens and webhooks revoked, and its account closed. Its messages stay, under its name.
 */
export async function removeBot(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	botId: string,
	now = Date.now()
): Promise<Done> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	for (const token of await listTokens(db, botId)) await revokeToken(db, rt, botId, token.id);
	await db.delete(incomingWebhooks).where(eq(incomingWebhooks.botId, botId));
	await db.delete(outgoingWebhooks).where(eq(outgoingWebhooks.botId, botId));
	await refreshAudience(rt, roomId);
	// Removed like any member (it may have been removed from the member list already).
	const removed = await removeMember(db, rt, actor, roomId, botId);
	if (!removed.ok && removed.code !== 'bad_target') return removed;
	await db.update(users).set({ deletedAt: now }).where(eq(users.id, botId));
	return { ok: true };
}
