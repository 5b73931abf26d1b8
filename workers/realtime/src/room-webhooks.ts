// The room's side of its bots' outgoing webhooks: which of a flush's new messages each webhook
// gets, as the events its outbox (webhook-outbox.ts) will deliver.
import type { ChatMessage } from '../../../shared/protocol';
import type { WebhookEvent } from '../../../shared/webhook-event';
import type { Audience } from './room-audience';
import type { QueuedEvent } from './webhook-outbox';

/**
 * Each webhook's events for `messages` (new ones, oldest first): every text message still there,
 * or with `mentions` only those that mention its bot; never the bot's own.
 */
export function webhookEvents(
	roomId: string,
	audience: Audience,
	messages: ChatMessage[]
): Map<string, QueuedEvent[]> {
	const byHook = new Map<string, QueuedEvent[]>();
	for (const hook of audience.webhooks) {
		const events: QueuedEvent[] = [];
		for (const message of messages) {
			if (message.kind !== 'text' || message.deletedAt !== undefined) continue;
			if (message.senderId === hook.botId) continue;
			const mentioned = message.mentions?.includes(hook.botId) ?? false;
			if (hook.events === 'mentions' && !mentioned) continue;
			const event: WebhookEvent = {
				type: 'message',
				id: `${roomId}:${message.seq}`,
				webhookId: hook.id,
				room: { id: roomId, name: audience.name },
				bot: { id: hook.botId, username: hook.botUsername },
				message,
				mentioned
			};
			events.push({ id: event.id, body: JSON.stringify(event) });
		}
		if (events.length > 0) byHook.set(hook.id, events);
	}
	return byHook;
}

/** Hands each webhook its events. Best effort: an outbox that cannot be reached is logged. */
export async function sendToWebhooks(
	outboxes: Env['WEBHOOKS'],
	byHook: Map<string, QueuedEvent[]>
): Promise<void> {
	const sent = await Promise.allSettled(
		[...byHook].map(([hookId, events]) =>
			outboxes.get(outboxes.idFromName(hookId)).enqueue(hookId, events)
		)
	);
	for (const result of sent) {
		if (result.status === 'rejected') console.warn('webhook outbox not reached', result.reason);
	}
}
