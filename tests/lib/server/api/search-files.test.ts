// Search and files through the public API: the same code as the web app's, behind a token.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { runDurableObjectAlarm } from 'cloudflare:test';
import { FileAnswer, SearchAnswer } from '$lib/server/api/schemas';
import { consumeRateLimits, RateLimits } from '$lib/server/rate-limit';
import * as search from '../../../../src/routes/api/v1/search/+server';
import * as upload from '../../../../src/routes/api/v1/rooms/[id]/files/+server';
import * as file from '../../../../src/routes/api/v1/files/[id]/+server';
import * as messages from '../../../../src/routes/api/v1/rooms/[id]/messages/+server';
import { db, roomStub, seedRoom, seedUser } from '../../../helpers';
import { PNG } from '../files/support';
import { tokenFor, type TokenClient } from './support';

function word(): string {
	return `w${Math.random().toString(36).slice(2, 10)}`;
}

const find = (client: TokenClient, query: string) =>
	client.call(search.GET, { path: `/api/v1/search?${query}` });

const put = (
	client: TokenClient,
	roomId: string,
	bytes: Uint8Array<ArrayBuffer>,
	name = 'chart.png'
) =>
	client.call(upload.POST, {
		path: `/api/v1/rooms/${roomId}/files`,
		params: { id: roomId },
		raw: bytes,
		headers: { 'x-file-name': encodeURIComponent(name), 'content-type': 'application/octet-stream' }
	});

const get = (client: TokenClient, fileId: string) =>
	client.browser.call(file.GET, {
		path: `/api/v1/files/${fileId}`,
		params: { id: fileId },
		headers: { authorization: `Bearer ${client.token}` }
	});

describe('GET /api/v1/search', () => {
	it('finds what was sent over the API once the room has stored it in D1, and only where allowed', async () => {
		const ana = await seedUser('ana');
		const eve = await seedUser('eve');
		const roomId = await seedRoom(ana);
		const anas = await tokenFor(ana);
		const w = word();
		await anas.call(messages.POST, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			json: { clientId: 'c1', body: `${w} quarterly numbers` }
		});
		await runDurableObjectAlarm(roomStub(roomId));
		const found = await find(anas, `q=${w}`);
		expect(found.status).toBe(200);
		expect(v.is(SearchAnswer, found.body)).toBe(true);
		expect(found.body.messages.items).toMatchObject([{ roomId, seq: 1 }]);
		expect((await find(await tokenFor(eve), `q=${w}`)).body.messages.items).toEqual([]);
	});

	it('refuses bad input in the one shape, room-limited tokens, and a searcher past their rate', async () => {
		const ana = await seedUser('ana');
		const roomId = await seedRoom(ana);
		const anas = await tokenFor(ana, { scope: 'read' });
		const bad = await find(anas, 'q=hello&sort=loudest');
		expect(bad.status).toBe(400);
		expect(bad.body.error).toMatchObject({ code: 'bad_input', details: [{ path: 'sort' }] });
		const limited = await find(await tokenFor(ana, { rooms: [roomId] }), 'q=hello');
		expect([limited.status, limited.body.error.code]).toEqual([403, 'token_rooms']);
		for (let i = 0; i < RateLimits.searchPerAccount.limit; i++) {
			await consumeRateLimits(db(), [[RateLimits.searchPerAccount, ana.id]]);
		}
		const tooFast = await find(anas, 'q=hello');
		expect(tooFast.status).toBe(429);
		expect(Number(tooFast.headers.get('retry-after'))).toBeGreaterThan(0);
	});
});

describe('files', () => {
	it('uploads a file, attaches it to a message, and downloads it with the token', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const roomId = await seedRoom(ana, bob);
		const anas = await tokenFor(ana);
		const stored = await put(anas, roomId, PNG);
		expect(stored.status).toBe(201);
		expect(v.is(FileAnswer, stored.body)).toBe(true);
		expect(stored.body).toMatchObject({ name: 'chart.png', type: 'image/png', kind: 'image' });
		const sent = await anas.call(messages.POST, {
			path: `/api/v1/rooms/${roomId}/messages`,
			params: { id: roomId },
			json: { clientId: 'with-file', body: 'the chart', attachments: [stored.body.id] }
		});
		expect(sent.body.message.attachments).toMatchObject([
			{ id: stored.body.id, name: 'chart.png' }
		]);

		const downloaded = await get(await tokenFor(bob, { scope: 'read' }), stored.body.id);
		if (downloaded.kind !== 'response') throw new Error('no response');
		expect(downloaded.response.status).toBe(200);
		expect(new Uint8Array(await downloaded.response.arrayBuffer())).toEqual(PNG);
	});

	it('refuses strangers, other rooms’ tokens, read-only tokens and nameless uploads, storing nothing', async () => {
		const ana = await seedUser('ana');
		const eve = await seedUser('eve');
		const roomId = await seedRoom(ana);
		const otherRoom = await seedRoom(ana);
		const stored = await put(await tokenFor(ana), roomId, PNG);

		for (const client of [await tokenFor(eve), await tokenFor(ana, { rooms: [otherRoom] })]) {
			const answer = await get(client, stored.body.id);
			if (answer.kind !== 'response') throw new Error('no response');
			expect(answer.response.status).toBe(404);
			expect(await answer.response.json()).toMatchObject({ error: { code: 'not_found' } });
		}
		expect((await put(await tokenFor(eve), roomId, PNG)).status).toBe(404);
		const reader = await put(await tokenFor(ana, { scope: 'read' }), roomId, PNG);
		expect([reader.status, reader.body.error.code]).toEqual([403, 'insufficient_scope']);
		const nameless = await (
			await tokenFor(ana)
		).call(upload.POST, {
			path: `/api/v1/rooms/${roomId}/files`,
			params: { id: roomId },
			raw: PNG
		});
		expect([nameless.status, nameless.body.error.code]).toEqual([400, 'bad_input']);
		const [files] = (await db().all(
			`SELECT count(*) AS count FROM files WHERE room_id = '${roomId}'`
		)) as { count: number }[];
		expect(files?.count).toBe(1);
	});
});
