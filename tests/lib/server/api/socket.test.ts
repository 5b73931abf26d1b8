// A room socket opened with an API token: what bots and scripts listen with. The same rules as a
// browser's socket, the token's own limits on top, and revoking the token closes it at once.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { apiTokens } from '$shared/db/schema';
import { hashSecret } from '$lib/server/ids';
import { openRoomSocket } from '$lib/server/realtime/door';
import { realtimeOf } from '$lib/server/realtime/effects';
import { revokeToken } from '$lib/server/api/tokens';
import { banMember } from '$lib/server/rooms/members';
import type { ServerFrame } from '$shared/protocol';
import { db, seedRoom, seedUser, TestSocket } from '../../../helpers';
import { tokenFor, type TokenClient } from './support';

function upgrade(roomId: string, headers: Record<string, string>) {
	return new Request(`https://parley.test/ws/room/${roomId}`, {
		headers: { Upgrade: 'websocket', ...headers }
	});
}

async function open(roomId: string, client: TokenClient, headers: Record<string, string> = {}) {
	return openRoomSocket(
		upgrade(roomId, { authorization: `Bearer ${client.token}`, ...headers }),
		{ db: db(), rooms: env.ROOMS },
		undefined
	);
}

async function listen(roomId: string, client: TokenClient): Promise<TestSocket> {
	const response = await open(roomId, client);
	expect(response.status).toBe(101);
	response.webSocket!.accept();
	const socket = new TestSocket(response.webSocket!);
	socket.send({ type: 'hello', lastSeq: 0 });
	await socket.next('welcome');
	return socket;
}

async function tokenId(client: TokenClient): Promise<string> {
	const [row] = await db()
		.select({ id: apiTokens.id })
		.from(apiTokens)
		.where(eq(apiTokens.tokenHash, hashSecret(client.token)));
	return row!.id;
}

describe('a room socket opened with a token', () => {
	it('hears the room and sends as the token’s person, with no browser and no cookie', async () => {
		const ana = await seedUser('ana');
		const bot = await seedUser('robo');
		const roomId = await seedRoom(ana, bot);
		const anas = await listen(roomId, await tokenFor(ana));
		const robos = await listen(roomId, await tokenFor(bot));
		anas.send({ type: 'send', clientId: 'a1', body: 'ping' });
		const heard = await robos.next('message');
		expect(heard.message).toMatchObject({ senderId: ana.id, body: 'ping' });
		robos.send({ type: 'send', clientId: 'r1', body: 'pong' });
		expect((await robos.next('ack')).seq).toBe(2);
		expect((await anas.next('message', (f) => f.message.seq === 2)).message.senderId).toBe(bot.id);
	});

	it('refuses a bad token, a stranger, a banned member and a room the token is not for', async () => {
		const ana = await seedUser('ana');
		const eve = await seedUser('eve');
		const bob = await seedUser('bob');
		const roomId = await seedRoom(ana, bob);
		const otherRoom = await seedRoom(ana);
		const bad = await openRoomSocket(
			upgrade(roomId, { authorization: 'Bearer parley_pat_nonsense' }),
			{ db: db(), rooms: env.ROOMS },
			undefined
		);
		expect(bad.status).toBe(401);
		expect((await open(roomId, await tokenFor(eve))).status).toBe(404);
		expect((await open(roomId, await tokenFor(ana, { rooms: [otherRoom] }))).status).toBe(403);
		const bobs = await tokenFor(bob);
		await banMember(
			db(),
			realtimeOf(env),
			{ id: ana.id, displayName: 'Ana', username: ana.username },
			roomId,
			bob.id
		);
		expect((await open(roomId, bobs)).status).toBe(403);
		// Another site's page cannot ride a token any more than a cookie.
		expect(
			(await open(roomId, await tokenFor(ana), { origin: 'https://evil.example' })).status
		).toBe(403);
	});

	it('with a read-only token hears everything and changes nothing', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const reader = await listen(roomId, await tokenFor(ana, { scope: 'read' }));
		const frames: ServerFrame[] = [];
		for (const frame of [
			{ type: 'send', clientId: 'r1', body: 'let me write' },
			{ type: 'typing' },
			{ type: 'read', seq: 0 }
		]) {
			reader.send(frame);
		}
		await reader.until((all) => all.filter((f) => f.type === 'error').length === 3 && all);
		frames.push(...reader.of('error'));
		expect(frames.map((f) => f.type === 'error' && f.code)).toEqual([
			'forbidden',
			'forbidden',
			'forbidden'
		]);
		expect(reader.of('error')[0]).toMatchObject({ clientId: 'r1' });
		expect(reader.of('ack')).toEqual([]);
		const writer = await listen(roomId, await tokenFor(ana));
		writer.send({ type: 'send', clientId: 'w1', body: 'I may' });
		expect((await writer.next('ack')).seq).toBe(1);
		expect((await reader.next('message')).message.body).toBe('I may');
	});

	it('closes when its token is revoked, and the person’s other sockets stay', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const doomed = await tokenFor(ana);
		const kept = await tokenFor(ana);
		const doomedSocket = await listen(roomId, doomed);
		const keptSocket = await listen(roomId, kept);
		expect((await revokeToken(db(), realtimeOf(env), ana.id, await tokenId(doomed))).ok).toBe(true);
		await doomedSocket.until(() => doomedSocket.closed);
		expect(doomedSocket.closed!.code).toBe(4001);
		expect(keptSocket.closed).toBeNull();
		expect((await open(roomId, doomed)).status).toBe(401);
	});
});
