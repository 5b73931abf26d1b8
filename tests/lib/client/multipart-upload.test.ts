// The browser's upload in parts against the real routes, local R2 and D1. workerd has no
// XMLHttpRequest or localStorage, and its fetch would leave the worker: the three are stood in
// for by a dispatcher that hands each request to the route SvelteKit would (with a real session),
// a Map, and an XHR that does the same and can drop a part on the floor. Browser behaviour (the
// progress events themselves) is left to the e2e tests.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { isHttpError, type RequestEvent } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { validateSessionToken } from '$lib/server/auth/session';
import { abortUpload, uploadInParts } from '$lib/client/multipart-upload';
import { UploadError, type UploadProgress } from '$lib/client/upload-meta';
import { files, uploads } from '$shared/db/schema';
import { MULTIPART_PART_BYTES } from '$shared/files';
import * as startRoute from '../../../src/routes/api/rooms/[id]/uploads/+server';
import * as uploadRoute from '../../../src/routes/api/uploads/[id]/+server';
import * as partRoute from '../../../src/routes/api/uploads/[id]/parts/[n]/+server';
import * as completeRoute from '../../../src/routes/api/uploads/[id]/complete/+server';
import { db, seedRoom, seedUser } from '../../helpers';
import { sessionFor } from '../../support/people';
import { HTML, PNG } from '../server/files/support';

const ORIGIN = 'https://parley.test';
const PART = MULTIPART_PART_BYTES;

type Handler = (event: RequestEvent) => Promise<Response>;

/** Which route SvelteKit would call for a method and path, with its params. */
function routeOf(method: string, path: string): { handler: Handler; params: object } | null {
	let m = /^\/api\/rooms\/([^/]+)\/uploads$/.exec(path);
	if (m && method === 'POST') return { handler: startRoute.POST as Handler, params: { id: m[1] } };
	m = /^\/api\/uploads\/([^/]+)$/.exec(path);
	if (m && method === 'GET') return { handler: uploadRoute.GET as Handler, params: { id: m[1] } };
	if (m && method === 'DELETE') {
		return { handler: uploadRoute.DELETE as Handler, params: { id: m[1] } };
	}
	m = /^\/api\/uploads\/([^/]+)\/parts\/([^/]+)$/.exec(path);
	if (m && method === 'PUT')
		return { handler: partRoute.PUT as Handler, params: { id: m[1], n: m[2] } };
	m = /^\/api\/uploads\/([^/]+)\/complete$/.exec(path);
	if (m && method === 'POST') {
		return { handler: completeRoute.POST as Handler, params: { id: m[1] } };
	}
	return null;
}

let token = '';
/** Requests answered, as "METHOD path". */
let requests: string[] = [];
/** Parts whose next send fails at the network, as a dropped connection does. */
let dropParts = new Set<number>();

async function serve(request: Request): Promise<Response> {
	const url = new URL(request.url, ORIGIN);
	requests.push(`${request.method} ${url.pathname}`);
	const route = routeOf(request.method, url.pathname);
	if (!route) return new Response('no such route', { status: 404 });
	const { user, session } = await validateSessionToken(db(), token);
	const ctx = createExecutionContext();
	const event = {
		request,
		url,
		params: route.params,
		locals: { user, session },
		platform: { env, ctx, caches },
		cookies: { get: () => undefined },
		setHeaders: () => {},
		route: { id: null }
	} as unknown as RequestEvent;
	try {
		return await route.handler(event);
	} catch (e) {
		if (isHttpError(e)) return Response.json(e.body, { status: e.status });
		throw e;
	} finally {
		await waitOnExecutionContext(ctx);
	}
}

/** Just what the client uses of XMLHttpRequest. */
class FakeXhr {
	status = 0;
	responseText = '';
	upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
	onload: (() => void) | null = null;
	onerror: (() => void) | null = null;
	ontimeout: (() => void) | null = null;
	onabort: (() => void) | null = null;
	#method = 'GET';
	#url = '';
	#headers: Record<string, string> = {};
	#response: Response | null = null;
	#aborted = false;

	open(method: string, url: string) {
		this.#method = method;
		this.#url = url;
	}
	setRequestHeader(name: string, value: string) {
		this.#headers[name] = value;
	}
	getResponseHeader(name: string) {
		return this.#response?.headers.get(name) ?? null;
	}
	abort() {
		this.#aborted = true;
		this.onabort?.();
	}
	send(body: Blob) {
		void (async () => {
			const n = Number(this.#url.split('/').pop());
			if (dropParts.delete(n)) return this.onerror?.();
			const bytes = new Uint8Array(await body.arrayBuffer());
			// Half way: the whole part counts only once the server has answered.
			this.upload.onprogress?.({ loaded: Math.floor(bytes.length / 2) });
			const response = await serve(
				new Request(new URL(this.#url, ORIGIN), {
					method: this.#method,
					headers: this.#headers,
					body: bytes
				})
			);
			if (this.#aborted) return;
			this.#response = response;
			this.status = response.status;
			this.responseText = await response.text();
			this.onload?.();
		})();
	}
}

beforeEach(() => {
	requests = [];
	dropParts = new Set();
	const storage = new Map<string, string>();
	vi.stubGlobal('localStorage', {
		getItem: (key: string) => storage.get(key) ?? null,
		setItem: (key: string, value: string) => void storage.set(key, value),
		removeItem: (key: string) => void storage.delete(key)
	});
	vi.stubGlobal('fetch', (input: string, init?: RequestInit) =>
		serve(new Request(new URL(input, ORIGIN), init))
	);
	vi.stubGlobal('XMLHttpRequest', FakeXhr);
	// Retries come at once: the backoff's jitter draws zero.
	vi.spyOn(Math, 'random').mockReturnValue(0);
});

afterEach(() => {
	vi.unstubAllGlobals();
	vi.restoreAllMocks();
});

async function member() {
	const alice = await seedUser('alice');
	const roomId = await seedRoom(alice);
	token = await sessionFor(alice);
	return { alice, roomId };
}

function pngBlob(size: number): { blob: Blob; bytes: Uint8Array } {
	const bytes = new Uint8Array(size);
	for (let i = 0; i < size; i++) bytes[i] = (i * 31) % 251;
	bytes.set(PNG);
	return { blob: new Blob([bytes]), bytes };
}

const parts = () => requests.filter((r) => r.startsWith('PUT '));

describe('uploadInParts', () => {
	it('sends every part, retrying a dropped one, and completes', { timeout: 60_000 }, async () => {
		const { roomId } = await member();
		const { blob } = pngBlob(2 * PART + 100);
		dropParts.add(2);
		const progress: UploadProgress[] = [];
		const file = await uploadInParts(
			roomId,
			blob,
			{ name: 'big.png', width: 4, height: 3 },
			{
				resumeKey: 'k1',
				onProgress: (p) => progress.push(p)
			}
		);
		expect(file).toMatchObject({ name: 'big.png', type: 'image/png', size: blob.size, width: 4 });
		expect(await db().select().from(files).where(eq(files.id, file.id))).toHaveLength(1);
		// Part 2 went twice (the first was dropped); the first part went first, alone.
		expect(parts().length).toBe(3);
		expect(requests.filter((r) => r.endsWith('/parts/1'))).toHaveLength(1);
		expect(progress.at(-1)).toEqual({ sent: blob.size, total: blob.size });
		expect(localStorage.getItem('parley:upload:k1')).toBeNull();
	});

	it(
		'pauses on the signal, and a later call sends only the missing parts',
		{ timeout: 60_000 },
		async () => {
			const { roomId } = await member();
			const { blob } = pngBlob(PART + 100);
			const pause = new AbortController();
			await expect(
				uploadInParts(
					roomId,
					blob,
					{ name: 'a.png' },
					{
						resumeKey: 'k2',
						signal: pause.signal,
						onProgress: (p) => {
							if (p.sent >= PART) pause.abort(new DOMException('offline', 'AbortError'));
						}
					}
				)
			).rejects.toMatchObject({ name: 'AbortError' });
			expect(parts()).toEqual([expect.stringMatching(/\/parts\/1$/)]);
			// The server keeps the upload; the key survives (a reload reads it back).
			const [row] = await db().select().from(uploads).where(eq(uploads.name, 'a.png'));
			expect(localStorage.getItem('parley:upload:k2')).toContain(row!.id);

			requests = [];
			const file = await uploadInParts(roomId, blob, { name: 'a.png' }, { resumeKey: 'k2' });
			expect(file.id).toBe(row!.id);
			expect(requests).toEqual([
				`GET /api/uploads/${row!.id}`,
				`PUT /api/uploads/${row!.id}/parts/2`,
				`POST /api/uploads/${row!.id}/complete`
			]);
		}
	);

	it('starts again once when the server no longer has the upload', async () => {
		const { roomId } = await member();
		localStorage.setItem('parley:upload:k3', JSON.stringify({ uploadId: 'gone', size: 500 }));
		const file = await uploadInParts(
			roomId,
			pngBlob(500).blob,
			{ name: 'b.png' },
			{
				resumeKey: 'k3'
			}
		);
		expect(file.size).toBe(500);
		expect(requests[0]).toBe('GET /api/uploads/gone');
	});

	it('throws a final UploadError for a refusal, and forgets the upload', async () => {
		const { roomId } = await member();
		const error = await uploadInParts(
			roomId,
			new Blob([HTML]),
			{ name: 'x.png' },
			{
				resumeKey: 'k4'
			}
		).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(UploadError);
		expect(error).toMatchObject({ retryable: false, code: 'unsupported_type', status: 415 });
		expect((error as Error).message).toMatch(/cannot be shared/);
		expect(localStorage.getItem('parley:upload:k4')).toBeNull();

		const notMember = await uploadInParts(
			'no-such-room',
			new Blob([PNG]),
			{ name: 'a.png' },
			{
				resumeKey: 'k5'
			}
		).catch((e: unknown) => e);
		expect(notMember).toMatchObject({ retryable: false, status: 404 });
	});

	it('abortUpload discards what the server has and forgets the key', async () => {
		const { roomId } = await member();
		const { blob } = pngBlob(PART + 100);
		const pause = new AbortController();
		await uploadInParts(
			roomId,
			blob,
			{ name: 'c.png' },
			{
				resumeKey: 'k6',
				signal: pause.signal,
				onProgress: (p) => p.sent >= PART && pause.abort()
			}
		).catch(() => undefined);
		const [row] = await db().select().from(uploads).where(eq(uploads.name, 'c.png'));
		expect(row).toBeDefined();
		await abortUpload('k6');
		expect(await db().select().from(uploads).where(eq(uploads.id, row!.id))).toEqual([]);
		expect(localStorage.getItem('parley:upload:k6')).toBeNull();
		// Nothing known: nothing to do.
		await abortUpload('k6');
	});
});
