// Uploads in parts (R2 multipart upload) through the app's routes, against the local R2 and D1:
// start, parts, status, complete, abort, and every refusal, each leaving nothing behind.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { and, eq } from 'drizzle-orm';
import { completeUtf8Prefix } from '$lib/server/files/multipart';
import { files, memberships, roomBans, rooms, uploadParts, uploads } from '$shared/db/schema';
import { MULTIPART_PART_BYTES } from '$shared/files';
import * as startRoute from '../../../../src/routes/api/rooms/[id]/uploads/+server';
import * as uploadRoute from '../../../../src/routes/api/uploads/[id]/+server';
import * as partRoute from '../../../../src/routes/api/uploads/[id]/parts/[n]/+server';
import * as completeRoute from '../../../../src/routes/api/uploads/[id]/complete/+server';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';
import { sessionFor } from '../../../support/people';
import { FileClient, HTML, PNG, SVG, TEXT, callRoute, snapshot, type CallOptions } from './support';

const PART = MULTIPART_PART_BYTES;

/** `size` bytes that start as a whole PNG, then bytes of no meaning (not random: see files.test). */
function pngOf(size: number): Uint8Array {
	const data = new Uint8Array(size);
	for (let i = 0; i < size; i++) data[i] = (i * 31) % 251;
	data.set(PNG);
	return data;
}

type Status = {
	id: string;
	size: number;
	partSize: number;
	parts: { partNumber: number; size: number }[];
};

/** Someone calling the upload-in-parts routes as SvelteKit would, with a real session. */
class PartsClient {
	private constructor(private token: string) {}

	static async as(person: Person) {
		return new PartsClient(await sessionFor(person));
	}

	start(roomId: string, body: unknown, vars: Record<string, unknown> = {}) {
		return this.call(
			startRoute.POST,
			`/api/rooms/${roomId}/uploads`,
			{ id: roomId },
			{
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(body),
				vars
			}
		);
	}

	/** A start that must succeed. */
	async started(roomId: string, body: { name: string; size: number } & Record<string, unknown>) {
		const response = await this.start(roomId, body);
		if (response.status !== 201) throw new Error(`refused: ${await response.text()}`);
		return (await response.json()) as Status;
	}

	status(id: string) {
		return this.call(uploadRoute.GET, `/api/uploads/${id}`, { id }, {});
	}

	part(id: string, n: number | string, bytes: Uint8Array) {
		return this.call(
			partRoute.PUT,
			`/api/uploads/${id}/parts/${n}`,
			{ id, n: String(n) },
			{
				method: 'PUT',
				body: bytes
			}
		);
	}

	/** Sends part `n` of `data` as the upload's part size cuts it; must succeed. */
	async sendPart(id: string, data: Uint8Array, n: number) {
		const response = await this.part(id, n, data.subarray((n - 1) * PART, n * PART));
		if (response.status !== 200) throw new Error(`part ${n} refused: ${await response.text()}`);
		return response.json();
	}

	complete(id: string, vars: Record<string, unknown> = {}) {
		return this.call(
			completeRoute.POST,
			`/api/uploads/${id}/complete`,
			{ id },
			{
				method: 'POST',
				vars
			}
		);
	}

	abort(id: string) {
		return this.call(uploadRoute.DELETE, `/api/uploads/${id}`, { id }, { method: 'DELETE' });
	}

	private call(
		handler: (event: never) => Response | Promise<Response>,
		path: string,
		params: Record<string, string>,
		options: CallOptions & { vars?: Record<string, unknown> }
	): Promise<Response> {
		const { vars, ...rest } = options;
		return callRoute(handler, this.token, path, params, { ...rest, env: vars });
	}
}

async function roomWithMember() {
	const alice = await seedUser('alice');
	const roomId = await seedRoom(alice);
	return { alice, roomId, client: await PartsClient.as(alice) };
}

async function expectRefusal(response: Response, status: number, code: string) {
	expect(response.status).toBe(status);
	const body = (await response.json()) as { code: string; message: string };
	expect(body.code).toBe(code);
	expect(body.message.length).toBeGreaterThan(0);
	return body;
}

async function uploadRows(id: string) {
	return {
		upload: (await db().select().from(uploads).where(eq(uploads.id, id))).length,
		parts: (await db().select().from(uploadParts).where(eq(uploadParts.uploadId, id))).length
	};
}

/** Whether R2 still has the multipart upload: sending it a part no one completes says which. */
async function r2UploadState(id: string): Promise<'gone' | 'open'> {
	const [row] = await db().select().from(uploads).where(eq(uploads.id, id));
	if (!row) throw new Error('no row');
	try {
		await env.FILES.resumeMultipartUpload(row.r2Key, row.r2UploadId).uploadPart(10_000, 'x');
		return 'open';
	} catch {
		return 'gone';
	}
}

describe('uploading in parts', () => {
	it(
		'stores a file sent in parts, byte for byte, as a single upload would describe it',
		{ timeout: 60_000 },
		async () => {
			const { alice, roomId, client } = await roomWithMember();
			const data = pngOf(2 * PART + 1234);
			const started = await client.started(roomId, {
				name: 'panorama.png',
				size: data.length,
				width: 8000,
				height: 2000,
				placeholder: 'AAAA'
			});
			expect(started).toEqual({
				id: expect.stringMatching(/^[a-z0-9]{24}$/),
				size: data.length,
				partSize: PART,
				parts: []
			});
			// Later parts wait for the first, which says what the file is.
			await expectRefusal(
				await client.part(started.id, 2, data.subarray(PART, 2 * PART)),
				400,
				'bad_input'
			);
			for (const n of [1, 3, 2]) await client.sendPart(started.id, data, n);

			const before = await snapshot();
			const response = await client.complete(started.id);
			expect(response.status).toBe(201);
			const file = (await response.json()) as { id: string; url: string };
			expect(file).toEqual({
				id: started.id,
				name: 'panorama.png',
				type: 'image/png',
				kind: 'image',
				size: data.length,
				width: 8000,
				height: 2000,
				placeholder: 'AAAA',
				url: `/files/${started.id}`
			});
			expect(await uploadRows(started.id)).toEqual({ upload: 0, parts: 0 });
			const [row] = await db().select().from(files).where(eq(files.id, file.id));
			expect(row).toMatchObject({
				uploaderId: alice.id,
				roomId,
				messageSeq: null,
				purpose: 'attachment'
			});
			expect((await snapshot()).keys).toEqual([...before.keys, row!.r2Key].sort());
			expect((await env.FILES.head(row!.r2Key))?.httpMetadata?.contentType).toBe('image/png');

			const download = await (await FileClient.as(alice)).download(file.url);
			expect(download.status).toBe(200);
			expect(new Uint8Array(await download.arrayBuffer())).toEqual(data);
		}
	);

	it(
		'resumes: the status says which parts arrived, and the rest completes the file',
		{ timeout: 60_000 },
		async () => {
			const { alice, roomId, client } = await roomWithMember();
			const data = pngOf(2 * PART + 10);
			const { id } = await client.started(roomId, { name: 'big.png', size: data.length });
			await client.sendPart(id, data, 1);
			// The connection drops while part 2 is under way: it arrives cut short, and is refused.
			await expectRefusal(
				await client.part(id, 2, data.subarray(PART, PART + 1000)),
				400,
				'bad_input'
			);
			// A part sent again replaces the one before.
			await client.sendPart(id, data, 1);

			// After a reload, the browser asks what the server has.
			const status = await client.status(id);
			expect(status.status).toBe(200);
			expect(await status.json()).toEqual({
				id,
				size: data.length,
				partSize: PART,
				parts: [{ partNumber: 1, size: PART }]
			});
			await expectRefusal(await client.complete(id), 400, 'bad_input');
			await client.sendPart(id, data, 2);
			await client.sendPart(id, data, 3);
			const done = await client.complete(id);
			expect(done.status).toBe(201);
			const file = (await done.json()) as { url: string; size: number };
			const download = await (await FileClient.as(alice)).download(file.url);
			expect(new Uint8Array(await download.arrayBuffer())).toEqual(data);
		}
	);

	it('decides the type from the first part: HTML and SVG end the upload, leaving nothing', async () => {
		const { roomId, client } = await roomWithMember();
		const before = await snapshot();
		for (const bytes of [HTML, SVG]) {
			const { id } = await client.started(roomId, { name: 'photo.png', size: bytes.length });
			await expectRefusal(await client.part(id, 1, bytes), 415, 'unsupported_type');
			expect(await uploadRows(id)).toEqual({ upload: 0, parts: 0 });
			expect((await client.status(id)).status).toBe(404);
		}
		// A large one, whose first part is only the start of the file.
		const html = new TextEncoder().encode('<!DOCTYPE html>'.padEnd(PART + 5, ' '));
		const { id } = await client.started(roomId, { name: 'notes.txt', size: html.length });
		await expectRefusal(await client.part(id, 1, html.subarray(0, PART)), 415, 'unsupported_type');
		expect(await snapshot()).toEqual(before);
		expect(await uploadRows(id)).toEqual({ upload: 0, parts: 0 });
	});

	it('in an end-to-end encrypted room keeps ciphertext as bytes under no name, whatever the first part looks like', async () => {
		const { roomId, client } = await roomWithMember();
		await db().update(rooms).set({ encryption: 'mls' }).where(eq(rooms.id, roomId));
		// Bytes that would be refused in the clear (HTML first) are ciphertext here: never sniffed.
		const data = new Uint8Array(PART + 100).fill(7);
		data.set(HTML);
		const upload = await client.started(roomId, {
			name: 'minutes-of-the-secret-meeting.html',
			size: data.byteLength,
			width: 640,
			height: 480,
			placeholder: 'AAAA'
		});
		await client.sendPart(upload.id, data, 1);
		await client.sendPart(upload.id, data, 2);
		expect((await client.complete(upload.id)).status).toBe(201);
		const [row] = await db().select().from(files).where(eq(files.id, upload.id));
		expect(row).toMatchObject({
			name: 'encrypted',
			type: 'application/octet-stream',
			kind: 'document',
			size: data.byteLength,
			width: null,
			height: null,
			placeholder: null
		});
	});

	it('takes text whose first part ends inside a character', async () => {
		const { roomId, client } = await roomWithMember();
		// "é" is two bytes; one falls either side of the part boundary.
		const text = new TextEncoder().encode('a'.repeat(PART - 1) + 'é' + 'b'.repeat(10));
		expect(completeUtf8Prefix(text.subarray(0, PART)).length).toBe(PART - 1);
		const { id } = await client.started(roomId, { name: 'log.txt', size: text.length });
		await client.sendPart(id, text, 1);
		await client.sendPart(id, text, 2);
		const done = await client.complete(id);
		expect(done.status).toBe(201);
		expect(await done.json()).toMatchObject({ type: 'text/plain', kind: 'document' });
	});

	it('refuses parts of the wrong size or number, and more bytes than declared', async () => {
		const { roomId, client } = await roomWithMember();
		const data = pngOf(PART + 100);
		const { id } = await client.started(roomId, { name: 'a.png', size: data.length });
		await expectRefusal(await client.part(id, 1, data.subarray(0, PART - 1)), 400, 'bad_input');
		await expectRefusal(await client.part(id, 1, data.subarray(0, PART + 1)), 413, 'too_large');
		await client.sendPart(id, data, 1);
		// The last part is what is left of the declared size: not a byte more.
		await expectRefusal(await client.part(id, 2, pngOf(101)), 413, 'too_large');
		await expectRefusal(await client.part(id, 2, pngOf(99)), 400, 'bad_input');
		for (const n of ['0', '3', '-1', 'x', '1e3']) {
			await expectRefusal(await client.part(id, n, pngOf(100)), 400, 'bad_input');
		}
		expect(await uploadRows(id)).toEqual({ upload: 1, parts: 1 });
	});

	it('refuses a start that a single upload would refuse, storing nothing', async () => {
		const { roomId, client } = await roomWithMember();
		const before = await snapshot();
		const rowsBefore = await db().select().from(uploads);
		await expectRefusal(await client.start(roomId, { name: 'a', size: 0 }), 400, 'empty_file');
		await expectRefusal(
			await client.start(roomId, { name: 'a', size: 1001 }, { FILE_MAX_BYTES: 1000 }),
			413,
			'too_large'
		);
		await expectRefusal(await client.start(roomId, { name: 'a', size: -1 }), 400, 'bad_input');
		await expectRefusal(await client.start(roomId, { size: 10 }), 400, 'bad_input');
		await expectRefusal(await client.start(roomId, { name: 'a', size: 1.5 }), 400, 'bad_input');
		await expectRefusal(
			await client.start(roomId, { name: 'a', size: 10, width: 0 }),
			400,
			'bad_input'
		);
		await expectRefusal(await client.start('nope', { name: 'a', size: 10 }), 404, 'not_found');
		expect(await snapshot()).toEqual(before);
		expect(await db().select().from(uploads)).toEqual(rowsBefore);
	});

	it('counts unfinished uploads against the quota', async () => {
		const { alice, roomId, client } = await roomWithMember();
		const quota = { FILE_QUOTA_BYTES: 1000 };
		const first = await client.start(roomId, { name: 'a.txt', size: 600 }, quota);
		expect(first.status).toBe(201);
		const { id } = (await first.json()) as Status;
		await expectRefusal(
			await client.start(roomId, { name: 'b.txt', size: 600 }, quota),
			413,
			'quota_exceeded'
		);
		// A single upload counts the open one too.
		const single = await (
			await FileClient.as(alice)
		).upload(roomId, TEXT.slice(0, 20), 'c.txt', {
			env: { FILE_QUOTA_BYTES: 600 + 19 }
		});
		await expectRefusal(single, 413, 'quota_exceeded');

		expect((await client.abort(id)).status).toBe(204);
		expect((await client.start(roomId, { name: 'b.txt', size: 600 }, quota)).status).toBe(201);
	});

	it('completes within the quota without counting the upload twice', async () => {
		const { roomId, client } = await roomWithMember();
		const text = new TextEncoder().encode('x'.repeat(900));
		const quota = { FILE_QUOTA_BYTES: 1000 };
		const first = await client.start(roomId, { name: 'a.txt', size: text.length }, quota);
		const { id } = (await first.json()) as Status;
		await client.sendPart(id, text, 1);
		expect((await client.complete(id, quota)).status).toBe(201);
		// The quota lowered since the start: completing stores nothing, and the upload is gone.
		const second = await client.started(roomId, { name: 'b.txt', size: 150 });
		await client.sendPart(second.id, text.subarray(0, 150), 1);
		const before = await snapshot();
		await expectRefusal(await client.complete(second.id, quota), 413, 'quota_exceeded');
		expect(await snapshot()).toEqual(before);
		expect(await uploadRows(second.id)).toEqual({ upload: 0, parts: 0 });
	});

	it('is the uploader’s alone, and ends for a member removed or banned', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const roomId = await seedRoom(alice, bob, carol);
		const a = await PartsClient.as(alice);
		const b = await PartsClient.as(bob);
		const c = await PartsClient.as(carol);
		const data = pngOf(500);
		const { id } = await a.started(roomId, { name: 'a.png', size: data.length });
		for (const other of [b, c]) {
			await expectRefusal(await other.status(id), 404, 'not_found');
			await expectRefusal(await other.part(id, 1, data), 404, 'not_found');
			await expectRefusal(await other.complete(id), 404, 'not_found');
			await expectRefusal(await other.abort(id), 404, 'not_found');
		}
		expect(await uploadRows(id)).toEqual({ upload: 1, parts: 0 });

		// Bob's own upload, then he is removed; Carol's, then she is banned.
		const bobs = await b.started(roomId, { name: 'b.png', size: data.length });
		await b.sendPart(bobs.id, data, 1);
		const carols = await c.started(roomId, { name: 'c.png', size: data.length });
		await db()
			.delete(memberships)
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, bob.id)));
		await db().insert(roomBans).values({ roomId, userId: carol.id, createdAt: Date.now() });
		await expectRefusal(await b.complete(bobs.id), 404, 'not_found');
		await expectRefusal(await b.status(bobs.id), 404, 'not_found');
		await expectRefusal(await c.part(carols.id, 1, data), 404, 'not_found');
		expect(await db().select().from(files).where(eq(files.id, bobs.id))).toEqual([]);
		// Discarding their own upload is still theirs to do.
		expect((await b.abort(bobs.id)).status).toBe(204);
		expect(await uploadRows(bobs.id)).toEqual({ upload: 0, parts: 0 });
	});

	it('completing twice makes one file: the second answer is the same file', async () => {
		const { roomId, client } = await roomWithMember();
		const data = pngOf(300);
		const { id } = await client.started(roomId, { name: 'a.png', size: data.length });
		await client.sendPart(id, data, 1);
		const [one, two] = await Promise.all([client.complete(id), client.complete(id)]);
		// The one that lost the race answers the same file, or (while the other is still writing
		// the file's row) asks to be asked again.
		const [first, second] = one.status === 201 ? [one, two] : [two, one];
		expect(first.status).toBe(201);
		expect([200, 503]).toContain(second.status);
		const file = await first.json();
		if (second.status === 200) expect(await second.json()).toEqual(file);
		const again = await client.complete(id);
		expect(again.status).toBe(200);
		expect(await again.json()).toEqual(file);
		expect(await db().select().from(files).where(eq(files.id, id))).toHaveLength(1);
	});

	it('abort discards the parts in R2 and the rows; the upload is then gone', async () => {
		const { roomId, client } = await roomWithMember();
		const data = pngOf(PART + 7);
		const { id } = await client.started(roomId, { name: 'a.png', size: data.length });
		await client.sendPart(id, data, 1);
		expect(await r2UploadState(id)).toBe('open');
		const [row] = await db().select().from(uploads).where(eq(uploads.id, id));
		const before = await snapshot();
		expect((await client.abort(id)).status).toBe(204);
		expect(await uploadRows(id)).toEqual({ upload: 0, parts: 0 });
		await expect(
			env.FILES.resumeMultipartUpload(row!.r2Key, row!.r2UploadId).uploadPart(2, 'x')
		).rejects.toThrow();
		expect(await snapshot()).toEqual(before);
		for (const response of [
			await client.status(id),
			await client.part(id, 2, data.subarray(PART)),
			await client.complete(id),
			await client.abort(id)
		]) {
			expect(response.status).toBe(404);
		}
	});
});
