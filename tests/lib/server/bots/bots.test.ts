// Bots: accounts a room's admins make for their room, acting only through tokens limited to it and
// through an incoming webhook; marked as bots in every message they send, live and in history.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { users } from '$shared/db/schema';
import { MessageAnswer } from '$lib/server/api/schemas';
import {
	createBot,
	createBotToken,
	createIncomingWebhook,
	listBots,
	MAX_BOTS_PER_ROOM,
	removeBot,
	revokeIncomingWebhook
} from '$lib/server/bots/bots';
import { sendFriendRequest } from '$lib/server/people/friends';
import { getProfile, searchPeople } from '$lib/server/people/people';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { addMember, listMembers, removeMember } from '$lib/server/rooms/members';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import * as hook from '../../../../src/routes/api/v1/hooks/[id]/[secret]/+server';
import * as me from '../../../../src/routes/api/v1/me/+server';
import * as messages from '../../../../src/routes/api/v1/rooms/[id]/messages/+server';
import * as direct from '../../../../src/routes/api/v1/direct/+server';
import { connect, db, roomStub, seedRoom, TestSocket } from '../../../helpers';
import { openRoomSocket } from '$lib/server/realtime/door';
import { env } from 'cloudflare:workers';
import { befriend, rt, seedPerson } from '../../../support/people';
import { TestBrowser } from '../../../support/request-event';
import { signedInBrowser } from '../../../support/accounts';
import { call, TokenClient } from '../api/support';

type Who = Awaited<ReturnType<typeof seedPerson>>;
const actor = (who: Who) => ({ id: who.id, displayName: who.displayName, username: who.username });

async function roomWithBot(name = 'Deploys') {
	const owner = await seedPerson('olga');
	const member = await seedPerson('mo');
	const roomId = await seedRoom(owner, member);
	const made = await createBot(db(), rt(), actor(owner), roomId, name);
	if (!made.ok) throw new Error(made.message);
	return { owner, member, roomId, bot: made.bot };
}

function post(path: string, json: unknown) {
	const [, , , , id, secret] = path.split('/');
	return call(new TestBrowser(), hook.POST, { path, params: { id: id!, secret: secret! }, json });
}

async function webhookOf(owner: Who, roomId: string, botId: string): Promise<string> {
	const made = await createIncomingWebhook(db(), actor(owner), roomId, botId);
	if (!made.ok) throw new Error(made.message);
	return made.path;
}

describe('making bots', () => {
	it('lets the owner and admins make a bot, a member of the room, announced in its timeline', async () => {
		const { owner, roomId, bot } = await roomWithBot('Deploy Bot');
		expect(bot).toMatchObject({ displayName: 'Deploy Bot', username: 'deploy_bot_bot' });
		const [row] = await db().select().from(users).where(eq(users.id, bot.id));
		expect(row).toMatchObject({
			kind: 'bot',
			botRoomId: roomId,
			passwordHash: null,
			botCreatedBy: owner.id
		});
		const members = await listMembers(db(), roomId);
		expect(members.find((m) => m.id === bot.id)).toMatchObject({ kind: 'bot', role: 'member' });
		expect(members.find((m) => m.id === owner.id)).toMatchObject({ kind: 'person' });
		expect(await roomStub(roomId).lastSeq()).toBe(1);
		const second = await createBot(db(), rt(), actor(owner), roomId, 'Deploy Bot');
		expect(second.ok && second.bot.username).toMatch(/^deploy_bot_bot_[a-z2-7]{4}$/);
		expect((await listBots(db(), roomId)).map((b) => b.id)).toEqual([
			bot.id,
			second.ok && second.bot.id
		]);
	});

	it('refuses members, strangers, direct conversations, bad names and more than the cap, making nothing', async () => {
		const { owner, member, roomId } = await roomWithBot();
		const stranger = await seedPerson('sam');
		expect(await createBot(db(), rt(), actor(member), roomId, 'Mine')).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await createBot(db(), rt(), actor(stranger), roomId, 'Mine')).toMatchObject({
			ok: false,
			status: 404
		});
		expect(await createBot(db(), rt(), actor(owner), roomId, '  ')).toMatchObject({
			ok: false,
			code: 'bad_input'
		});
		expect(await createBot(db(), rt(), actor(owner), roomId, 'x'.repeat(41))).toMatchObject({
			ok: false,
			code: 'bad_input'
		});
		await befriend(owner, member);
		const dm = await findOrCreateDirectRoom(db(), owner.id, member.id);
		if (!dm.ok) throw new Error('no dm');
		expect(await createBot(db(), rt(), actor(owner), dm.roomId, 'Dm bot')).toMatchObject({
			ok: false,
			code: 'direct_room'
		});
		for (let i = (await listBots(db(), roomId)).length; i < MAX_BOTS_PER_ROOM; i++) {
			await createBot(db(), rt(), actor(owner), roomId, `Bot ${i}`);
		}
		expect(await createBot(db(), rt(), actor(owner), roomId, 'One more')).toMatchObject({
			ok: false,
			code: 'too_many'
		});
		expect(await listBots(db(), roomId)).toHaveLength(MAX_BOTS_PER_ROOM);
	});
});

describe('an incoming webhook', () => {
	it('posts as the bot, marked as a bot live and in history, once per clientId', async () => {
		const { owner, member, roomId, bot } = await roomWithBot();
		const path = await webhookOf(owner, roomId, bot.id);
		const watching = await connect(roomId, member, 0);
		const posted = await post(path, { text: 'Build **42** is green', clientId: 'build-42' });
		expect(posted.status).toBe(201);
		expect(v.is(MessageAnswer, posted.body)).toBe(true);
		expect(posted.body.message).toMatchObject({
			senderId: bot.id,
			senderName: 'Deploys',
			body: 'Build **42** is green',
			bot: true
		});
		expect((await watching.next('message', (f) => f.message.senderId === bot.id)).message.bot).toBe(
			true
		);
		const again = await post(path, { text: 'Build **42** is green', clientId: 'build-42' });
		expect([again.status, again.body.message.seq]).toEqual([200, posted.body.message.seq]);

		// Read back from D1 once flushed: marked by its sender's kind there.
		await runDurableObjectAlarm(roomStub(roomId));
		const history = await call(await signedInBrowser(member), messages.GET, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId }
		});
		const fromBot = history.body.messages.filter(
			(m: { senderId: string }) => m.senderId === bot.id
		);
		expect(fromBot).toEqual([
			expect.objectContaining({ bot: true, body: 'Build **42** is green' })
		]);
		const fromPeople = history.body.messages.filter(
			(m: { senderId: string }) => m.senderId !== bot.id
		);
		expect(fromPeople.every((m: { bot?: true }) => m.bot === undefined)).toBe(true);
	});

	it('answers 404 to a wrong, replaced or deleted address, and 403 once the bot is out of its room', async () => {
		const { owner, roomId, bot } = await roomWithBot();
		const first = await webhookOf(owner, roomId, bot.id);
		expect(
			(
				await post(
					first.replace(/[a-z2-7]$/, (c) => (c === 'a' ? 'b' : 'a')),
					{ text: 'x' }
				)
			).status
		).toBe(404);
		const second = await webhookOf(owner, roomId, bot.id);
		expect((await post(first, { text: 'old address' })).status).toBe(404);
		expect((await post(second, { text: 'new address' })).status).toBe(201);
		const bad = await post(second, { body: 'not text' });
		expect([bad.status, bad.body.error.code]).toEqual([400, 'bad_input']);
		expect((await post(second, { text: '   ' })).body.error.code).toBe('empty_message');
		await removeMember(db(), rt(), actor(owner), roomId, bot.id);
		expect((await post(second, { text: 'still here?' })).status).toBe(404);
		expect(await revokeIncomingWebhook(db(), actor(owner), roomId, bot.id)).toEqual({ ok: true });
		expect((await post(second, { text: 'gone' })).status).toBe(404);
	});
});

describe('a bot’s token', () => {
	it('is limited to the bot’s room, and everything it sends is marked as the bot’s', async () => {
		const { owner, roomId, bot } = await roomWithBot();
		const made = await createBotToken(db(), actor(owner), roomId, bot.id, {
			scope: 'write',
			lifetime: '30d'
		});
		if (!made.ok) throw new Error(made.message);
		expect(made.summary.rooms).toEqual([roomId]);
		const client = new TokenClient(made.token);
		expect((await client.call(me.GET, { path: '/api/v1/me' })).body).toMatchObject({
			id: bot.id,
			kind: 'bot'
		});
		const sent = await client.call(messages.POST, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			json: { clientId: 'b1', body: 'Deploying v2' }
		});
		expect(sent.body.message).toMatchObject({ senderId: bot.id, bot: true });
		// Whole-account routes are out of reach: a bot has no friends and no direct conversations.
		const dm = await client.call(direct.POST, {
			path: '/api/v1/direct',
			json: { username: owner.username }
		});
		expect([dm.status, dm.body.error.code]).toEqual([403, 'token_rooms']);
	});

	it('opens a socket that marks what the bot sends over it', async () => {
		const { owner, member, roomId, bot } = await roomWithBot();
		const made = await createBotToken(db(), actor(owner), roomId, bot.id, {
			scope: 'write',
			lifetime: '7d'
		});
		if (!made.ok) throw new Error(made.message);
		const response = await openRoomSocket(
			new Request(`https://parley.test/ws/room/${roomId}`, {
				headers: { Upgrade: 'websocket', authorization: `Bearer ${made.token}` }
			}),
			{ db: db(), rooms: env.ROOMS },
			undefined
		);
		expect(response.status).toBe(101);
		response.webSocket!.accept();
		const socket = new TestSocket(response.webSocket!);
		const watching = await connect(roomId, member, 0);
		socket.send({ type: 'hello', lastSeq: 0 });
		socket.send({ type: 'send', clientId: 's1', body: 'over the socket' });
		await socket.next('ack');
		const heard = await watching.next('message', (f) => f.message.senderId === bot.id);
		expect(heard.message).toMatchObject({ body: 'over the socket', bot: true });
	});

	it('is refused to a member who is not an admin, and for a bot of another room', async () => {
		const { member, roomId, bot } = await roomWithBot();
		const other = await roomWithBot('Other');
		expect(
			await createBotToken(db(), actor(member), roomId, bot.id, { scope: 'read', lifetime: '7d' })
		).toMatchObject({ ok: false, status: 403 });
		expect(
			await createBotToken(db(), actor(other.owner), other.roomId, bot.id, {
				scope: 'read',
				lifetime: '7d'
			})
		).toMatchObject({ ok: false, status: 404 });
	});
});

describe('what a bot is not', () => {
	it('cannot be befriended, messaged directly, added to another room, or found among people', async () => {
		const { owner, member, roomId, bot } = await roomWithBot('Helper');
		expect(await sendFriendRequest(db(), rt(), member.id, bot.id)).toMatchObject({
			ok: false,
			code: 'bot'
		});
		expect(await findOrCreateDirectRoom(db(), member.id, bot.id)).toMatchObject({
			ok: false,
			code: 'bot'
		});
		const elsewhere = await createRoom(db(), {
			kind: 'group',
			name: 'Elsewhere',
			createdBy: owner.id
		});
		await grantMembership(db(), elsewhere.id, owner.id, 'owner');
		expect(await addMember(db(), rt(), actor(owner), elsewhere.id, bot.username)).toMatchObject({
			ok: false,
			code: 'bot'
		});
		expect((await searchPeople(db(), member.id, 'helper')).map((p) => p.id)).not.toContain(bot.id);
		expect(await getProfile(db(), member.id, bot.username)).toMatchObject({
			kind: 'bot',
			mayMessage: false
		});
		expect((await listMembers(db(), roomId)).some((m) => m.id === bot.id)).toBe(true);
	});
});

describe('removing a bot', () => {
	it('takes it out of the room, revokes its tokens and webhook, closes its sockets, and keeps its messages', async () => {
		const { owner, member, roomId, bot } = await roomWithBot();
		const path = await webhookOf(owner, roomId, bot.id);
		const made = await createBotToken(db(), actor(owner), roomId, bot.id, {
			scope: 'write',
			lifetime: '30d'
		});
		if (!made.ok) throw new Error(made.message);
		const seq = (await post(path, { text: 'before' })).body.message.seq;
		const socket = await connect(
			roomId,
			{ id: bot.id, name: 'Deploys', username: bot.username },
			seq
		);
		expect(await removeBot(db(), rt(), actor(member), roomId, bot.id)).toMatchObject({
			ok: false,
			status: 403
		});
		expect(await removeBot(db(), rt(), actor(owner), roomId, bot.id)).toEqual({ ok: true });
		await socket.until(() => socket.closed);
		expect((await post(path, { text: 'after' })).status).toBe(404);
		expect((await new TokenClient(made.token).call(me.GET, { path: '/api/v1/me' })).status).toBe(
			401
		);
		expect(await listBots(db(), roomId)).toEqual([]);
		expect((await listMembers(db(), roomId)).some((m) => m.id === bot.id)).toBe(false);
		expect(await roomStub(roomId).lastSeq()).toBeGreaterThan(seq);
	});
});
