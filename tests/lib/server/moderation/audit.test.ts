// The audit log keeps every moderation action of a room's owner and admins, besides the member
// changes and reports tested beside them: invite links and the room's bots and their credentials.
// A refused attempt writes nothing.
import { describe, expect, it } from 'vitest';
import { listAudit } from '$lib/server/moderation/audit';
import { createInvite, listInvites, revokeInvite } from '$lib/server/rooms/invites';
import {
	createBot,
	createBotToken,
	createIncomingWebhook,
	listBots,
	revokeBotToken,
	revokeIncomingWebhook
} from '$lib/server/bots/bots';
import { deleteOutgoingWebhook, saveOutgoingWebhook } from '$lib/server/bots/outgoing-webhooks';
import { db, seedRoom } from '../../../helpers';
import { rt, seedPerson } from '../../../support/people';

type Who = Awaited<ReturnType<typeof seedPerson>>;
const actor = (who: Who) => ({ id: who.id, displayName: who.displayName, username: who.username });

async function actions(roomId: string) {
	const { entries } = await listAudit(db(), { roomId });
	return entries.map((e) => [e.actorId, e.action, e.targetId]).reverse();
}

describe('the audit log of a room', () => {
	it('records invite links made and revoked, never their code', async () => {
		const olga = await seedPerson('olga');
		const mo = await seedPerson('mo');
		const roomId = await seedRoom(olga, mo);
		const made = await createInvite(db(), olga, roomId, { lifetime: '7d', maxUses: 5 });
		if (!made.ok) throw new Error(made.message);
		expect(await createInvite(db(), mo, roomId, { lifetime: '7d', maxUses: null })).toMatchObject({
			ok: false
		});
		const [invite] = await listInvites(db(), roomId);
		expect((await revokeInvite(db(), olga, roomId, invite!.id)).ok).toBe(true);

		expect(await actions(roomId)).toEqual([
			[olga.id, 'invite.create', roomId],
			[olga.id, 'invite.revoke', roomId]
		]);
		const { entries } = await listAudit(db(), { roomId });
		expect(JSON.stringify(entries)).not.toContain(made.code);
	});

	it('records a bot made, its webhooks and tokens, and its removal', async () => {
		const olga = await seedPerson('olga');
		const mo = await seedPerson('mo');
		const roomId = await seedRoom(olga, mo);
		const made = await createBot(db(), rt(), actor(olga), roomId, 'Deploys');
		if (!made.ok) throw new Error(made.message);
		const botId = made.bot.id;
		await createIncomingWebhook(db(), actor(olga), roomId, botId);
		await revokeIncomingWebhook(db(), actor(olga), roomId, botId);
		const token = await createBotToken(db(), actor(olga), roomId, botId, {
			scope: 'read',
			lifetime: '7d'
		});
		if (!token.ok) throw new Error(token.message);
		const tokenId = (await listBots(db(), roomId))[0]!.tokens[0]!.id;
		await revokeBotToken(db(), rt(), actor(olga), roomId, botId, tokenId);
		await saveOutgoingWebhook(
			db(),
			rt(),
			actor(olga),
			roomId,
			botId,
			{ url: 'https://hooks.example.com/x', events: 'messages' },
			{ production: true }
		);
		await deleteOutgoingWebhook(db(), rt(), actor(olga), roomId, botId);
		// A member is refused, and nothing is written for it.
		expect(await createIncomingWebhook(db(), actor(mo), roomId, botId)).toMatchObject({
			ok: false
		});

		expect(await actions(roomId)).toEqual(
			[
				'bot.create',
				'bot.incoming_webhook_create',
				'bot.incoming_webhook_delete',
				'bot.token_create',
				'bot.token_revoke',
				'bot.outgoing_webhook_save',
				'bot.outgoing_webhook_delete'
			].map((action) => [olga.id, action, botId])
		);
	});
});
