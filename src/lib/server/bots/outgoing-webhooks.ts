// A bot's outgoing webhook: where its room's new messages (or those that mention it) are POSTed,
// signed with a secret shown once. The realtime worker delivers them (workers/realtime/src/
// webhook-outbox.ts); here a room's owner or admins set one up, change it, turn it back on after
// it was turned off for failing, or delete it. Authorized as managing the room's bots.
import { eq } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { outgoingWebhooks } from '$shared/db/schema';
import { outboundUrlProblem } from '$shared/outbound-url';
import { generateId, generateSecretToken } from '$lib/server/ids';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { refreshAudience, type Realtime } from '$lib/server/realtime/effects';
import { auditBot, authorizeBot } from './authorize';

export const MAX_WEBHOOK_URL_LENGTH = 2000;

export const OutgoingWebhookEvents = v.picklist(
	['messages', 'mentions'],
	'Choose every message, or only those that mention the bot.'
);
export type OutgoingWebhookEvents = v.InferOutput<typeof OutgoingWebhookEvents>;

export const OutgoingWebhookInput = v.object({
	url: v.pipe(
		v.string('Give the address to send to.'),
		v.trim(),
		v.nonEmpty('Give the address to send to.'),
		v.maxLength(MAX_WEBHOOK_URL_LENGTH, 'That address is too long.')
	),
	events: OutgoingWebhookEvents
});

/** What the room's admins see of a bot's outgoing webhook (never its secret). */
export type OutgoingWebhookSummary = {
	url: string;
	events: OutgoingWebhookEvents;
	createdAt: number;
	/** Failed deliveries in a row, and what went wrong last. */
	failures: number;
	lastError: string | null;
	lastDeliveredAt: number | null;
	/** Set when it was turned off for failing; saving it again turns it on. */
	disabledAt: number | null;
};

export function summarizeOutgoingWebhook(
	row: typeof outgoingWebhooks.$inferSelect
): OutgoingWebhookSummary {
	return {
		url: row.url,
		events: row.events,
		createdAt: row.createdAt,
		failures: row.failures,
		lastError: row.lastError,
		lastDeliveredAt: row.lastDeliveredAt,
		disabledAt: row.disabledAt
	};
}

/**
 * Sets the bot's outgoing webhook: a new one gets a signing secret, answered this once; a
 * change keeps the secret and starts afresh (no failures, turned on). The URL must be https and
 * outside the local network (loopback only in development). The room starts sending at once.
 */
export async function saveOutgoingWebhook(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	botId: string,
	input: unknown,
	options: { production: boolean; now?: number }
): Promise<Done<{ secret: string | null }>> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	const parsed = v.safeParse(OutgoingWebhookInput, input);
	if (!parsed.success) return deny(400, 'bad_input', parsed.issues[0].message);
	const { url, events } = parsed.output;
	const problem = outboundUrlProblem(url, options.production);
	if (problem) return deny(400, 'bad_input', `The address ${problem}`);
	const now = options.now ?? Date.now();
	const secret = `whsec_${generateSecretToken()}`;
	const [saved] = await db
		.insert(outgoingWebhooks)
		.values({
			id: generateId(),
			botId,
			roomId,
			url,
			events,
			secret,
			createdBy: actor.id,
			createdAt: now
		})
		.onConflictDoUpdate({
			target: outgoingWebhooks.botId,
			set: { url, events, failures: 0, lastError: null, disabledAt: null }
		})
		.returning({ secret: outgoingWebhooks.secret });
	await refreshAudience(rt, roomId);
	await auditBot(db, actor, roomId, botId, 'bot.outgoing_webhook_save', { url, events });
	return { ok: true, secret: saved?.secret === secret ? secret : null };
}

/** Deletes the bot's outgoing webhook; what waited to be delivered is dropped. */
export async function deleteOutgoingWebhook(
	db: Db,
	rt: Realtime,
	actor: Actor,
	roomId: string,
	botId: string
): Promise<Done> {
	const found = await authorizeBot(db, actor, roomId, botId);
	if (!found.ok) return found;
	await db.delete(outgoingWebhooks).where(eq(outgoingWebhooks.botId, botId));
	await refreshAudience(rt, roomId);
	await auditBot(db, actor, roomId, botId, 'bot.outgoing_webhook_delete');
	return { ok: true };
}
