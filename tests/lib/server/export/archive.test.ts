// A person's data archive (Settings → Your data): everything that is theirs, across more than one
// page of messages, with their files' bytes; and nothing of anyone else's conversations, nor any
// password hash, session or token secret.
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { apiTokens, files, friendships, sessions, users } from '$shared/db/schema';
import { pairOf } from '$lib/server/rooms/authz';
import { createToken } from '$lib/server/api/tokens';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { SESSION_COOKIE } from '$lib/server/auth/session';
import { MESSAGE_PAGE_SIZE } from '$lib/server/export/archive';
import { GET } from '../../../../src/routes/api/me/export/+server';
import { registerPerson, signedInBrowser } from '../../../support/accounts';
import { TestBrowser } from '../../../support/request-event';
import { befriend, block } from '../../../support/people';
import { db, seedUser, type Person } from '../../../helpers';
import { FileClient, PNG } from '../files/support';
import { bytesOf, text, unzip, writeMessages } from './support';

type Line = { room: string; seq: number; body: string; sentAt: string; deletedAt?: string };

async function group(name: string, owner: Person, ...members: Person[]): Promise<string> {
	const room = await createRoom(db(), { kind: 'group', name, createdBy: owner.id });
	for (const member of members) await grantMembership(db(), room.id, member.id);
	return room.id;
}

/**
 * Ana writes in two groups (more than a page of messages in one), a direct conversation with Ben
 * and a room she has left; Ben writes beside her; Ben and Cleo have a conversation of their own.
 */
async function world() {
	const member = await registerPerson('ana', { verified: true });
	const ana: Person = { id: member.id, name: member.displayName, username: member.username };
	const [ben, cleo, dan] = await Promise.all(['ben', 'cleo', 'dan'].map((n) => seedUser(n)));
	await befriend(ana, ben!);
	await befriend(ben!, cleo!);
	// Cleo asked Ana to be friends; Ana has not answered.
	await db()
		.insert(friendships)
		.values({
			...pairOf(ana.id, cleo!.id),
			status: 'pending',
			requestedBy: cleo!.id,
			createdAt: Date.now()
		});
	await block(ana, dan!);

	const big = await group('Big room', ana, ben!);
	const small = await group('Small room', ben!, ana);
	const left = await group('Left room', ben!);
	const direct = await findOrCreateDirectRoom(db(), ana.id, ben!.id);
	const private_ = await findOrCreateDirectRoom(db(), ben!.id, cleo!.id);
	if (!direct.ok || !private_.ok) throw new Error('direct rooms');

	const many = MESSAGE_PAGE_SIZE + 20;
	await writeMessages(big, ana.id, many, { prefix: 'ana in big' });
	await writeMessages(big, ben!.id, 5, { firstSeq: many + 1, prefix: 'ben secret in big' });
	await writeMessages(small, ben!.id, 3, { prefix: 'ben secret in small' });
	await writeMessages(small, ana.id, 4, { firstSeq: 4, prefix: 'ana in small' });
	await writeMessages(direct.roomId, ana.id, 2, { prefix: 'ana to ben' });
	await writeMessages(direct.roomId, ben!.id, 2, { firstSeq: 3, prefix: 'ben to ana' });
	// Ana wrote in a room she is no longer in.
	await writeMessages(left, ana.id, 1, { prefix: 'ana before leaving' });
	await writeMessages(private_.roomId, ben!.id, 2, { prefix: 'ben whispers to cleo' });
	await writeMessages(private_.roomId, cleo!.id, 2, { firstSeq: 3, prefix: 'cleo whispers' });

	return { ana, member, ben: ben!, cleo: cleo!, dan: dan!, big, small, left, direct, private_ };
}

describe('a person’s data archive', () => {
	it('holds their profile, friends, blocks, rooms, every message they wrote and their files', async () => {
		const w = await world();
		const uploaded = await (await FileClient.as(w.ana)).stored(w.small, PNG, 'dot.png');
		const browser = await signedInBrowser(w.ana);
		const outcome = await browser.call(GET, { path: '/api/me/export' });
		if (outcome.kind !== 'response') throw new Error(JSON.stringify(outcome));
		expect(outcome.response.headers.get('content-type')).toBe('application/zip');
		expect(outcome.response.headers.get('content-disposition')).toMatch(
			new RegExp(`^attachment; filename="parley-${w.ana.username}-\\d{4}-\\d{2}-\\d{2}\\.zip"$`)
		);
		const zip = unzip(await bytesOf(outcome));

		const profile = JSON.parse(text(zip['profile.json']));
		expect(profile).toMatchObject({
			username: w.member.username,
			displayName: 'Ana',
			email: w.member.email,
			preferences: { directMessages: 'friends', sendReadReceipts: true, timeZone: 'UTC' }
		});

		const friends = JSON.parse(text(zip['friends.json']));
		expect(friends.friends.map((f: { username: string }) => f.username)).toEqual([w.ben.username]);
		expect(friends.requestsReceived.map((f: { username: string }) => f.username)).toEqual([
			w.cleo.username
		]);
		expect(friends.requestsSent).toEqual([]);
		const blocks = JSON.parse(text(zip['blocks.json']));
		expect(blocks.map((b: { username: string }) => b.username)).toEqual([w.dan.username]);

		const rooms = JSON.parse(text(zip['rooms.json'])) as {
			id: string;
			kind: string;
			name?: string;
			role?: string;
			with?: { username: string };
		}[];
		expect(rooms).toHaveLength(3);
		expect(rooms.find((r) => r.id === w.big)).toMatchObject({ name: 'Big room', role: 'owner' });
		expect(rooms.find((r) => r.id === w.small)).toMatchObject({
			name: 'Small room',
			role: 'member'
		});
		expect(rooms.find((r) => r.id === w.direct.roomId)).toMatchObject({
			kind: 'direct',
			with: { username: w.ben.username }
		});

		const lines = text(zip['messages.jsonl'])
			.trimEnd()
			.split('\n')
			.map((line) => JSON.parse(line) as Line);
		const many = MESSAGE_PAGE_SIZE + 20;
		expect(lines).toHaveLength(many + 4 + 2 + 1);
		const seqsIn = (room: string) => lines.filter((l) => l.room === room).map((l) => l.seq);
		expect(seqsIn(w.big)).toEqual(Array.from({ length: many }, (_, i) => i + 1));
		expect(seqsIn(w.small)).toEqual([4, 5, 6, 7]);
		expect(seqsIn(w.direct.roomId)).toEqual([1, 2]);
		expect(lines.filter((l) => l.room === w.left)).toMatchObject([
			{ seq: 1, body: 'ana before leaving 1' }
		]);
		expect(lines.every((l) => l.body.startsWith('ana '))).toBe(true);
		expect(lines[0]).toMatchObject({ body: 'ana in big 1', sentAt: '2026-01-05T09:01:00.000Z' });

		const index = JSON.parse(text(zip['files.json'])) as { id: string; path: string }[];
		expect(index).toMatchObject([{ id: uploaded.id, name: 'dot.png', room: w.small }]);
		expect(zip[index[0]!.path]).toEqual(PNG);
		expect(Object.keys(zip).filter((name) => name.startsWith('files/'))).toEqual([index[0]!.path]);
	});

	it('holds nothing of other people’s conversations, and no password, session or token', async () => {
		const w = await world();
		const { token } = (await createToken(db(), w.ana.id, {
			name: 'Backup script',
			scope: 'read',
			lifetime: '30d'
		})) as { token: string };
		const browser = await signedInBrowser(w.ana);
		const bytes = await bytesOf(await browser.call(GET, { path: '/api/me/export' }));
		const zip = unzip(bytes);
		const all = Object.values(zip).map(text).join('\n');

		// Others' words, even in rooms Ana is in, and the room between two other people.
		for (const words of ['ben secret', 'ben to ana', 'ben whispers', 'cleo whispers']) {
			expect(all).not.toContain(words);
		}
		expect(all).not.toContain(w.private_.roomId);
		// A room she left is named by its id alone.
		expect(all).not.toContain('Left room');

		const [row] = await db().select().from(users).where(eq(users.id, w.ana.id));
		const ownSessions = await db().select().from(sessions).where(eq(sessions.userId, w.ana.id));
		const [tokenRow] = await db().select().from(apiTokens).where(eq(apiTokens.userId, w.ana.id));
		const secrets = [
			row!.passwordHash!,
			browser.jar.get(SESSION_COOKIE)!,
			...ownSessions.map((s) => s.id),
			token,
			tokenRow!.tokenHash
		];
		expect(secrets.every((secret) => secret && secret.length >= 20)).toBe(true);
		for (const secret of secrets) expect(all).not.toContain(secret);
		const profile = text(zip['profile.json']);
		expect(profile).not.toMatch(/password|session|hash|secret/i);
		// The token is listed by its name and scope alone.
		expect(JSON.parse(profile).apiTokens).toEqual([
			expect.objectContaining({ name: 'Backup script', scope: 'read' })
		]);
		expect(Object.keys(JSON.parse(profile).apiTokens[0]).sort()).toEqual(
			['createdAt', 'expiresAt', 'lastUsedAt', 'name', 'rooms', 'scope'].sort()
		);
	});

	it('leaves out files nobody can read any more, and is refused to a visitor', async () => {
		const ana = await seedUser('ana');
		const roomId = await group('Doomed', ana);
		const uploaded = await (await FileClient.as(ana)).stored(roomId, PNG, 'gone.png');
		// The room was deleted: its files wait for the cleanup job.
		await db().update(files).set({ roomId: null }).where(eq(files.id, uploaded.id));
		const zip = unzip(
			await bytesOf(await (await signedInBrowser(ana)).call(GET, { path: '/api/me/export' }))
		);
		expect(JSON.parse(text(zip['files.json']))).toEqual([]);
		expect(text(zip['messages.jsonl'])).toBe('');

		const outcome = await new TestBrowser().call(GET, { path: '/api/me/export' });
		expect(outcome).toMatchObject({ kind: 'error', status: 401 });
	});

	it('is refused past ten exports an hour, with when to try again', async () => {
		const ana = await seedUser('ana');
		const browser = await signedInBrowser(ana);
		const answers = [];
		for (let i = 0; i < 11; i++) answers.push(await browser.call(GET, { path: '/api/me/export' }));
		const last = answers.at(-1)!;
		if (last.kind !== 'response') throw new Error(last.kind);
		expect(last.response.status).toBe(429);
		expect(Number(last.response.headers.get('Retry-After'))).toBeGreaterThan(0);
		expect(answers.slice(0, 10).every((a) => a.kind === 'response' && a.response.ok)).toBe(true);
	});
});
