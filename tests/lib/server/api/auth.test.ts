// Who may call the public API, and how: session cookies (same site only for changes), personal
// access tokens (hashed, scoped, limited to rooms, expiring, revocable), the rate, and the one
// error shape every refusal answers in.
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { env } from 'cloudflare:workers';
import { apiTokens } from '$shared/db/schema';
import { consumeRateLimits, RateLimits } from '$lib/server/rate-limit';
import { createToken, listTokens, revokeToken, TOKEN_PREFIX } from '$lib/server/api/tokens';
import { hashSecret } from '$lib/server/ids';
import { realtimeOf } from '$lib/server/realtime/effects';
import * as me from '../../../../src/routes/api/v1/me/+server';
import * as rooms from '../../../../src/routes/api/v1/rooms/+server';
import * as messages from '../../../../src/routes/api/v1/rooms/[id]/messages/+server';
import { TestBrowser } from '../../../support/request-event';
import { db, seedRoom, seedUser } from '../../../helpers';
import { call, sessionFor, TokenClient, tokenFor } from './support';

const ORIGIN = 'https://parley.test';

describe('authentication', () => {
	it('answers 401 in the one shape to a caller with neither cookie nor token', async () => {
		const answer = await call(new TestBrowser(), me.GET, { path: '/api/v1/me' });
		expect(answer.status).toBe(401);
		expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
		expect(answer.body).toEqual({
			error: { code: 'sign_in', message: expect.stringMatching(/token/) }
		});
	});

	it('knows the person by a token, and by a session', async () => {
		const ana = await seedUser('ana');
		const byToken = await (
			await tokenFor(ana, { scope: 'read' })
		).call(me.GET, { path: '/api/v1/me' });
		expect(byToken.status).toBe(200);
		expect(byToken.body).toMatchObject({
			id: ana.id,
			via: 'token',
			token: { scope: 'read', rooms: null }
		});
		const bySession = await (await sessionFor(ana)).call(me.GET, { path: '/api/v1/me' });
		expect(bySession.body).toMatchObject({ id: ana.id, via: 'session', token: null });
	});

	it('refuses a mistyped, made-up, expired, revoked or orphaned token, and a malformed header', async () => {
		const ana = await seedUser('ana');
		const good = await tokenFor(ana);
		const expired = await createToken(
			db(),
			ana.id,
			{ name: 'old', scope: 'write', lifetime: '7d' },
			Date.now() - 8 * 86_400_000
		);
		const revoked = await tokenFor(ana);
		const [revokedRow] = await db()
			.select()
			.from(apiTokens)
			.where(eq(apiTokens.tokenHash, hashSecret(revoked.token)));
		expect((await revokeToken(db(), realtimeOf(env), ana.id, revokedRow!.id)).ok).toBe(true);
		if (!expired.ok) throw new Error('no token');
		for (const header of [
			`Bearer ${good.token}x`,
			`Bearer ${TOKEN_PREFIX}${'a'.repeat(32)}`,
			`Bearer ${expired.token}`,
			`Bearer ${revoked.token}`,
			`Basic ${btoa('ana:secret')}`,
			'Bearer',
			good.token
		]) {
			const answer = await call(new TestBrowser(), me.GET, {
				path: '/api/v1/me',
				headers: { authorization: header }
			});
			expect(answer.status, header).toBe(401);
			expect(answer.body.error.code, header).toBe('invalid_token');
		}
		// A token does not outlive its person's account.
		const bob = await seedUser('bob');
		const bobs = await tokenFor(bob);
		await env.DB.prepare('UPDATE users SET deleted_at = ? WHERE id = ?')
			.bind(Date.now(), bob.id)
			.run();
		expect((await bobs.call(me.GET, { path: '/api/v1/me' })).status).toBe(401);
	});

	it('keeps only a hash of a token, shows its secret once, and notes when it was last used', async () => {
		const ana = await seedUser('ana');
		const made = await createToken(db(), ana.id, {
			name: 'deploy bot',
			scope: 'read',
			lifetime: 'never'
		});
		if (!made.ok) throw new Error('no token');
		expect(made.token).toMatch(new RegExp(`^${TOKEN_PREFIX}[a-z2-7]{32}$`));
		const [row] = await db().select().from(apiTokens).where(eq(apiTokens.id, made.summary.id));
		expect(row!.tokenHash).toBe(hashSecret(made.token));
		expect(JSON.stringify(row)).not.toContain(made.token.slice(TOKEN_PREFIX.length));
		expect(made.summary).toMatchObject({ name: 'deploy bot', expiresAt: null, lastUsedAt: null });
		expect(JSON.stringify(await listTokens(db(), ana.id))).not.toContain(made.token);

		await new TokenClient(made.token).call(me.GET, { path: '/api/v1/me' });
		const [listed] = await listTokens(db(), ana.id);
		expect(listed!.lastUsedAt).toBeGreaterThan(Date.now() - 5000);
	});

	it('refuses to make a token without a name, for rooms the person is not in, or past the cap', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const bobsRoom = await seedRoom(bob);
		expect(
			await createToken(db(), ana.id, { name: '  ', scope: 'read', lifetime: '7d' })
		).toMatchObject({ ok: false, code: 'bad_input' });
		expect(
			await createToken(db(), ana.id, {
				name: 'x',
				scope: 'read',
				lifetime: '7d',
				rooms: [bobsRoom]
			})
		).toMatchObject({ ok: false, code: 'bad_input' });
		expect(await listTokens(db(), ana.id)).toEqual([]);
	});

	it('lets a person revoke only their own tokens', async () => {
		const ana = await seedUser('ana');
		const eve = await seedUser('eve');
		const anas = await tokenFor(ana);
		const [row] = await listTokens(db(), ana.id);
		expect(await revokeToken(db(), realtimeOf(env), eve.id, row!.id)).toMatchObject({
			ok: false,
			status: 404
		});
		expect((await anas.call(me.GET, { path: '/api/v1/me' })).status).toBe(200);
	});
});

describe('what a token may do', () => {
	it('a read token reads and may not write', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const reader = await tokenFor(ana, { scope: 'read' });
		expect(
			(
				await reader.call(messages.GET, {
					path: `/api/v1/rooms/${roomId}/messages`,
					params: { id: roomId }
				})
			).status
		).toBe(200);
		const sent = await reader.call(messages.POST, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			json: { clientId: 'c1', body: 'hello' }
		});
		expect(sent.status).toBe(403);
		expect(sent.body.error.code).toBe('insufficient_scope');
		const history = await reader.call(messages.GET, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId }
		});
		expect(history.body.messages).toEqual([]);
	});

	it('a token limited to rooms acts only in those, lists only those, and is refused account-wide routes', async () => {
		const ana = await seedUser('ana');
		const allowed = await seedRoom(ana);
		const other = await seedRoom(ana);
		const limited = await tokenFor(ana, { rooms: [allowed] });
		const send = (roomId: string) =>
			limited.call(messages.POST, {
				path: `/api/v1/rooms/${roomId}/messages`,
				params: { id: roomId },
				json: { clientId: crypto.randomUUID(), body: 'hi' }
			});
		expect((await send(allowed)).status).toBe(201);
		const refused = await send(other);
		expect(refused.status).toBe(403);
		expect(refused.body.error.code).toBe('token_rooms');
		const listed = await limited.call(rooms.GET, { path: '/api/v1/rooms' });
		expect(listed.body.rooms.map((r: { id: string }) => r.id)).toEqual([allowed]);
		expect((await limited.call(me.GET, { path: '/api/v1/me' })).body.token.rooms).toEqual([
			allowed
		]);
	});
});

describe('a session cookie', () => {
	it('changes things only from this site’s pages', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const session = await sessionFor(ana);
		const post = (origin?: string) =>
			session.call(messages.POST, {
				path: `/api/v1/rooms/${roomId}/messages`,
				params: { id: roomId },
				json: { clientId: crypto.randomUUID(), body: 'from a page' },
				headers: origin ? { origin } : {}
			});
		const foreign = await post('https://evil.example');
		expect(foreign.status).toBe(403);
		expect(foreign.body.error.code).toBe('forbidden');
		expect((await post(ORIGIN)).status).toBe(201);
		// Reading is no change: another site's page cannot read the answer anyway (no CORS).
		const read = await session.call(messages.GET, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			headers: { origin: 'https://evil.example' }
		});
		expect(read.body.messages).toHaveLength(1);
	});
});

describe('the rate', () => {
	it('answers 429 with Retry-After once a token has used its minute, and counts tokens apart', async () => {
		const ana = await seedUser('ana');
		const busy = await tokenFor(ana);
		const calm = await tokenFor(ana);
		const [busyRow] = await db()
			.select()
			.from(apiTokens)
			.where(eq(apiTokens.tokenHash, hashSecret(busy.token)));
		const { limit } = RateLimits.apiPerCaller;
		for (let i = 0; i < limit; i++) {
			await consumeRateLimits(db(), [[RateLimits.apiPerCaller, `token:${busyRow!.id}`]]);
		}
		const refused = await busy.call(me.GET, { path: '/api/v1/me' });
		expect(refused.status).toBe(429);
		expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
		expect(refused.body.error.code).toBe('rate_limited');
		expect((await calm.call(me.GET, { path: '/api/v1/me' })).status).toBe(200);
	});
});
