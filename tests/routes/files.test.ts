// The upload and download routes, driven as SvelteKit calls them, against the local R2 and D1.
// Every refusal also proves that nothing changed: the bucket's keys and the files table.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { eq } from 'drizzle-orm';
import { files, rateLimits } from '$shared/db/schema';
import { rateLimitKey } from '$lib/server/rate-limit';
import { UPLOAD_RATE_LIMIT } from '$lib/server/files/limits';
import { handleSecurityHeaders } from '$lib/server/security-headers';
import { TestBrowser } from '../support/request-event';
import { db, fakeNamespace, roomStub, seedRoom, seedUser } from '../helpers';
import {
	FileClient,
	HTML,
	PDF,
	PNG,
	SVG,
	TEXT,
	WEBM,
	snapshot,
	streamOf
} from '../lib/server/files/support';

async function roomWithMember() {
	const alice = await seedUser('alice');
	const roomId = await seedRoom(alice);
	return { alice, roomId, client: await FileClient.as(alice) };
}

/** `count` bytes that are plain text, so the only thing wrong with them can be their size. */
const textOf = (count: number) => new TextEncoder().encode('a'.repeat(count));

/** Runs `act`, which must be refused with `status` and `code`, and checks nothing changed. */
async function expectRefused(act: () => Promise<Response>, status: number, code: string) {
	const before = await snapshot();
	const response = await act();
	expect(response.status).toBe(status);
	expect(response.headers.get('content-type')).toMatch(/^application\/json/);
	const body = (await response.json()) as { code: string; message: string };
	expect(body.code).toBe(code);
	expect(body.message.length).toBeGreaterThan(0);
	expect(await snapshot()).toEqual(before);
	return { response, body };
}

describe('uploading and downloading', () => {
	it('stores the bytes and gives them back unchanged, described by what they are', async () => {
		const { client, roomId, alice } = await roomWithMember();
		const before = await snapshot();
		// A whole PNG, then bytes of no meaning to make it bigger than one read. Not random bytes:
		// after a bare header, noise read as chunk lengths can land on a chunk that makes
		// file-type name the file something else (an APNG, say) once in a few hundred runs.
		const data = new Uint8Array(70_000).map((_, i) => (i * 31) % 251);
		data.set(PNG);
		const file = await client.stored(roomId, data, 'holiday.png', {
			headers: { 'x-file-width': '1', 'x-file-height': '1', 'x-file-placeholder': 'AAAA' }
		});
		expect(file).toEqual({
			id: expect.stringMatching(/^[a-z0-9]{24}$/),
			name: 'holiday.png',
			type: 'image/png',
			kind: 'image',
			size: data.length,
			width: 1,
			height: 1,
			placeholder: 'AAAA',
			url: `/files/${file.id}`
		});

		const after = await snapshot();
		const [row] = after.rows.filter((r) => !before.rows.some((b) => b.id === r.id));
		expect(row).toMatchObject({ id: file.id, uploaderId: alice.id, roomId, messageSeq: null });
		// The key is random, not the id, and names nothing about the file.
		expect(row!.r2Key).toMatch(/^f\/[a-z0-9]{24}$/);
		expect(row!.r2Key).not.toContain(file.id);
		expect(after.keys).toEqual([...before.keys, row!.r2Key].sort());
		const object = await env.FILES.head(row!.r2Key);
		expect(object?.httpMetadata?.contentType).toBe('image/png');

		const response = await client.download(file.url);
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toBe('image/png');
		expect(response.headers.get('content-length')).toBe(String(data.length));
		expect(new Uint8Array(await response.arrayBuffer())).toEqual(data);
	});

	it('a streamed upload without Content-Length is counted as it is read', async () => {
		const { client, roomId } = await roomWithMember();
		const file = await client.stored(roomId, streamOf(TEXT, 7), 'list.txt');
		expect(file).toMatchObject({ type: 'text/plain', kind: 'document', size: TEXT.length });
		const response = await client.download(file.url);
		expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
		expect(new Uint8Array(await response.arrayBuffer())).toEqual(TEXT);
	});

	it('keeps only a clean name, and no measurements for what is not shown at a size', async () => {
		const { client, roomId } = await roomWithMember();
		const file = await client.stored(roomId, PDF, '../../secret\u202Efdp.exe', {
			headers: { 'x-file-width': '100', 'x-file-height': '100', 'x-file-placeholder': 'AAAA' }
		});
		expect(file).toMatchObject({
			name: 'secretfdp.exe',
			type: 'application/pdf',
			width: null,
			height: null,
			placeholder: null
		});
	});

	it('a recorded voice note is audio when the browser says so', async () => {
		const { client, roomId } = await roomWithMember();
		const note = await client.stored(roomId, WEBM, 'voice.webm', {
			headers: { 'x-file-kind-hint': 'audio' }
		});
		expect(note).toMatchObject({ type: 'audio/webm', kind: 'audio' });
		const clip = await client.stored(roomId, WEBM, 'clip.webm');
		expect(clip).toMatchObject({ type: 'video/webm', kind: 'video' });
	});
});

describe('telling the room', () => {
	it('an upload is recorded by its room, which alone lets its uploader attach it', async () => {
		const { client, roomId, alice } = await roomWithMember();
		const file = await client.stored(roomId, PNG, 'a.png');
		const recorded = await runInDurableObject(roomStub(roomId), (_room, state) =>
			state.storage.sql
				.exec<{ uploader_id: string; attachment: string; message_seq: number | null }>(
					'SELECT uploader_id, attachment, message_seq FROM files WHERE id = ?',
					file.id
				)
				.toArray()
		);
		expect(recorded).toHaveLength(1);
		expect(recorded[0]).toMatchObject({ uploader_id: alice.id, message_seq: null });
		// What a message will carry: the description without the URL and without empty fields.
		expect(JSON.parse(recorded[0]!.attachment)).toStrictEqual({
			id: file.id,
			name: 'a.png',
			type: 'image/png',
			kind: 'image',
			size: PNG.length
		});
	});

	it('when the room cannot be told, the file is deleted again and the upload refused', async () => {
		const { client, roomId } = await roomWithMember();
		const calls: string[] = [];
		const rooms = fakeNamespace(() => ({
			fileUploaded: async (room: string) => {
				calls.push(room);
				throw new Error('the room is unreachable');
			}
		}));
		await expectRefused(
			() => client.upload(roomId, PNG, 'a.png', { env: { ROOMS: rooms } }),
			503,
			'unavailable'
		);
		expect(calls).toEqual([roomId]);
	});
});

describe('the type is decided from the bytes', () => {
	it('a PNG named .pdf is stored as a PNG', async () => {
		const { client, roomId } = await roomWithMember();
		const file = await client.stored(roomId, PNG, 'report.pdf', {
			headers: { 'content-type': 'application/pdf' }
		});
		expect(file).toMatchObject({ name: 'report.pdf', type: 'image/png', kind: 'image' });
		const response = await client.download(file.url);
		expect(response.headers.get('content-type')).toBe('image/png');
	});

	it.each([
		['an HTML file named .png', HTML, 'cat.png', 'image/png'],
		['an SVG with a script', SVG, 'logo.svg', 'image/svg+xml'],
		['an SVG named .txt', SVG, 'notes.txt', 'text/plain']
	])('%s is refused', async (_, data, name, declared) => {
		const { client, roomId } = await roomWithMember();
		await expectRefused(
			() => client.upload(roomId, data, name, { headers: { 'content-type': declared } }),
			415,
			'unsupported_type'
		);
	});

	it('a zero-byte file is refused', async () => {
		const { client, roomId } = await roomWithMember();
		await expectRefused(
			() => client.upload(roomId, new Uint8Array(0), 'empty.txt'),
			400,
			'empty_file'
		);
		await expectRefused(
			() => client.upload(roomId, streamOf(new Uint8Array(0)), 'empty.txt'),
			400,
			'empty_file'
		);
	});
});

describe('limits', () => {
	const small = { env: { FILE_MAX_BYTES: 1000 } };

	it('a file of exactly the limit is taken', async () => {
		const { client, roomId } = await roomWithMember();
		expect(await client.stored(roomId, textOf(1000), 'a.txt', small)).toMatchObject({ size: 1000 });
	});

	it('one byte over the limit is refused from its Content-Length, before anything is read', async () => {
		const { client, roomId } = await roomWithMember();
		let pulled = 0;
		const data = streamOf(textOf(1001), 100).getReader();
		const body = new ReadableStream<Uint8Array>({
			async pull(controller) {
				pulled++;
				const { done, value } = await data.read();
				if (done) controller.close();
				else controller.enqueue(value);
			}
		});
		const { body: refusal } = await expectRefused(
			() =>
				client.upload(roomId, body, 'a.txt', {
					...small,
					headers: { 'content-length': '1001' }
				}),
			413,
			'too_large'
		);
		expect(refusal.message).toMatch(/1000 bytes/);
		// Reading it would take 11 chunks; the runtime may buffer the first, the route read none.
		expect(pulled).toBeLessThanOrEqual(1);
	});

	it('one byte over the limit is refused while reading when no length is declared', async () => {
		const { client, roomId } = await roomWithMember();
		await expectRefused(
			() => client.upload(roomId, streamOf(textOf(1001), 100), 'a.txt', small),
			413,
			'too_large'
		);
	});

	it('an upload past the uploader’s quota is refused, and one within it is taken', async () => {
		const { client, roomId } = await roomWithMember();
		const quota = { env: { FILE_QUOTA_BYTES: 1500 } };
		await client.stored(roomId, textOf(1000), 'a.txt', quota);
		await expectRefused(
			() => client.upload(roomId, textOf(501), 'b.txt', quota),
			413,
			'quota_exceeded'
		);
		// Without a declared length the quota is checked when the row is written.
		await expectRefused(
			() => client.upload(roomId, streamOf(textOf(501)), 'b.txt', quota),
			413,
			'quota_exceeded'
		);
		await client.stored(roomId, textOf(500), 'c.txt', quota);
	});

	it('too many uploads are refused with 429 and Retry-After', async () => {
		const { client, roomId, alice } = await roomWithMember();
		const now = Date.now();
		await db()
			.insert(rateLimits)
			.values({
				key: rateLimitKey(UPLOAD_RATE_LIMIT, alice.id),
				count: UPLOAD_RATE_LIMIT.limit,
				previousCount: 0,
				windowStart: now - (now % UPLOAD_RATE_LIMIT.windowMs)
			});
		const { response } = await expectRefused(
			() => client.upload(roomId, TEXT, 'a.txt'),
			429,
			'rate_limited'
		);
		expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
	});

	it('bad headers are refused before anything is read', async () => {
		const { client, roomId } = await roomWithMember();
		await expectRefused(
			() => client.upload(roomId, PNG, 'a.png', { headers: { 'x-file-width': '-3' } }),
			400,
			'bad_input'
		);
	});

	it('a visitor who is not signed in cannot upload; a non-member is told there is no room', async () => {
		const { roomId } = await roomWithMember();
		await expectRefused(() => FileClient.anonymous().upload(roomId, PNG, 'a.png'), 401, 'sign_in');
		const erin = await FileClient.as(await seedUser('erin'));
		await expectRefused(() => erin.upload(roomId, PNG, 'a.png'), 404, 'not_found');
		await expectRefused(() => erin.upload('nosuchroom', PNG, 'a.png'), 404, 'not_found');
	});
});

describe('serving', () => {
	async function stored(data: Uint8Array, name: string) {
		const { client, roomId } = await roomWithMember();
		return { client, file: await client.stored(roomId, data, name) };
	}

	const inert = (response: Response) => {
		expect(response.headers.get('x-content-type-options')).toBe('nosniff');
		expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
		expect(response.headers.get('cache-control')).toBe('private, no-cache');
	};

	it('every answer is inert, private and revalidated; media inline, documents as attachments', async () => {
		const image = await stored(PNG, 'été.png');
		const text = await stored(TEXT, 'list.txt');
		const pdf = await stored(PDF, 'doc.pdf');
		const voice = await stored(WEBM, 'v.webm');
		const cases = [
			[image, '', 'inline'],
			[image, '?download=1', 'attachment'],
			[voice, '', 'inline'],
			[text, '', 'attachment'],
			[pdf, '', 'attachment']
		] as const;
		for (const [{ client, file }, query, disposition] of cases) {
			for (const method of ['GET', 'HEAD'] as const) {
				const response = await client.download(file.url + query, { method });
				expect(response.status).toBe(200);
				inert(response);
				expect(response.headers.get('accept-ranges')).toBe('bytes');
				expect(response.headers.get('etag')).toBe(`"${file.id}"`);
				expect(response.headers.get('content-disposition')).toBe(
					`${disposition}; filename="${file.name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(file.name)}`
				);
				expect(response.headers.get('content-length')).toBe(String(file.size));
				if (method === 'HEAD') expect(response.body).toBeNull();
			}
		}
	});

	it('answers If-None-Match with 304, still inert', async () => {
		const { client, file } = await stored(PNG, 'a.png');
		const response = await client.download(file.url, {
			headers: { 'if-none-match': `W/"other", "${file.id}"` }
		});
		expect(response.status).toBe(304);
		inert(response);
		expect(response.body).toBeNull();
		const changed = await client.download(file.url, { headers: { 'if-none-match': '"other"' } });
		expect(changed.status).toBe(200);
	});

	it('serves ranges: the first bytes, a suffix, an open end; refuses one past the end', async () => {
		const data = textOf(1000).map((_, i) => 97 + (i % 26));
		const { client, file } = await stored(data, 'abc.txt');
		const get = (range: string) => client.download(file.url, { headers: { range } });

		const cases = [
			['bytes=0-9', 0, 9],
			['bytes=-100', 900, 999],
			['bytes=990-', 990, 999],
			['bytes=500-5000', 500, 999]
		] as const;
		for (const [range, first, last] of cases) {
			const response = await get(range);
			expect(response.status, range).toBe(206);
			inert(response);
			expect(response.headers.get('content-range')).toBe(`bytes ${first}-${last}/1000`);
			expect(response.headers.get('content-length')).toBe(String(last - first + 1));
			expect(new Uint8Array(await response.arrayBuffer())).toEqual(data.slice(first, last + 1));
		}

		const unsatisfiable = await get('bytes=1000-');
		expect(unsatisfiable.status).toBe(416);
		inert(unsatisfiable);
		expect(unsatisfiable.headers.get('content-range')).toBe('bytes */1000');

		// Several ranges: the whole file, once.
		const multi = await get('bytes=0-1,10-11');
		expect(multi.status).toBe(200);
		expect(multi.headers.get('content-range')).toBeNull();
		expect(new Uint8Array(await multi.arrayBuffer())).toEqual(data);

		// A range against another version (If-Range) is the whole file too.
		const stale = await client.download(file.url, {
			headers: { range: 'bytes=0-9', 'if-range': '"other"' }
		});
		expect(stale.status).toBe(200);
		await stale.arrayBuffer();
	});

	it('the app’s hooks keep the file headers (pages’ CSP is not added to them)', async () => {
		const { client, file } = await stored(PNG, 'a.png');
		const outcome = await new TestBrowser().call(
			(event) => handleSecurityHeaders({ event, resolve: () => client.download(file.url) }),
			{ path: file.url }
		);
		if (outcome.kind !== 'response') throw new Error(outcome.kind);
		inert(outcome.response);
		expect(outcome.response.headers.get('content-disposition')).toMatch(/^inline;/);
	});

	it('a file that does not exist is 404, inert', async () => {
		const { client } = await roomWithMember();
		const response = await client.download('/files/nosuchfile');
		expect(response.status).toBe(404);
		inert(response);
		const rows = await db().select().from(files).where(eq(files.id, 'nosuchfile'));
		expect(rows).toEqual([]);
	});
});
