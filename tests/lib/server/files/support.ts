// Fixtures for the file tests: sample bytes of each kind, a person who calls the upload and
// download routes as SvelteKit would (with a real session), and a snapshot of everything a
// refused upload must leave as it was (the bucket's keys and the files table).
import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { isHttpError, type RequestEvent } from '@sveltejs/kit';
import { asc } from 'drizzle-orm';
import { validateSessionToken } from '$lib/server/auth/session';
import { files } from '$shared/db/schema';
import * as uploadRoute from '../../../../src/routes/api/rooms/[id]/files/+server';
import * as fileRoute from '../../../../src/routes/files/[id]/+server';
import { db, type Person } from '../../../helpers';
import { sessionFor } from '../../../support/people';

const ORIGIN = 'https://parley.test';
const bytes = (...parts: (string | number[] | Uint8Array)[]) => {
	const chunks = parts.map((p) =>
		typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)
	);
	const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
	let at = 0;
	for (const c of chunks) {
		out.set(c, at);
		at += c.length;
	}
	return out;
};

const fromBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** A real 1×1 PNG. */
export const PNG = fromBase64(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
);
/** A real 1×1 GIF. */
export const GIF = fromBase64('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7');
export const JPEG = bytes(
	[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10],
	'JFIF',
	[0, 1, 1, 0, 0, 1, 0, 1, 0, 0]
);
export const PDF = bytes('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n');
/** The EBML header of a WebM (what MediaRecorder writes first), with its DocType. */
export const WEBM = bytes(
	[0x1a, 0x45, 0xdf, 0xa3, 0x87, 0x42, 0x82, 0x84],
	'webm',
	new Array(64).fill(0)
);
export const MP3 = bytes(
	'ID3',
	[4, 0, 0, 0, 0, 0, 0],
	[0xff, 0xfb, 0x90, 0x64],
	new Array(417).fill(0),
	[0xff, 0xfb, 0x90, 0x64],
	new Array(417).fill(0)
);
export const HTML = bytes(
	'<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n'
);
export const SVG = bytes(
	'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>\n'
);
export const SVG_XML = bytes(
	'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>\n'
);
export const TEXT = bytes('Shopping list:\n- eggs\n- café au lait ☕\n');
/** An ELF header: an executable. */
export const ELF = bytes([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], new Array(56).fill(0));

/** A zip of stored (uncompressed) entries, as small as the format allows. */
export function zip(entries: Record<string, string>): Uint8Array {
	const local: Uint8Array[] = [];
	const central: Uint8Array[] = [];
	let offset = 0;
	const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
	const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
	for (const [name, content] of Object.entries(entries)) {
		const nameBytes = new TextEncoder().encode(name);
		const data = new TextEncoder().encode(content);
		const crc = crc32(data);
		const common = [
			...u16(20),
			...u16(0),
			...u16(0),
			...u16(0),
			...u16(0),
			...u32(crc),
			...u32(data.length),
			...u32(data.length),
			...u16(nameBytes.length),
			...u16(0)
		];
		const header = bytes([0x50, 0x4b, 0x03, 0x04], common, nameBytes, data);
		central.push(
			bytes(
				[0x50, 0x4b, 0x01, 0x02],
				u16(20),
				common,
				[...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(offset)],
				nameBytes
			)
		);
		local.push(header);
		offset += header.length;
	}
	const directory = bytes(...central);
	const end = bytes(
		[0x50, 0x4b, 0x05, 0x06],
		[
			...u16(0),
			...u16(0),
			...u16(central.length),
			...u16(central.length),
			...u32(directory.length),
			...u32(offset),
			...u16(0)
		]
	);
	return bytes(...local, directory, end);
}

function crc32(data: Uint8Array): number {
	let crc = 0xffffffff;
	for (const byte of data) {
		crc ^= byte;
		for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return (crc ^ 0xffffffff) >>> 0;
}

/** The smallest .docx file-type recognises: its content types name a Word document. */
export const DOCX = zip({
	'[Content_Types].xml':
		'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
	'word/document.xml': '<w:document/>'
});
export const ZIP = zip({ 'notes.txt': 'hello' });

/** Everything a refused upload must leave unchanged. */
export async function snapshot() {
	const listed = await env.FILES.list();
	const rows = await db().select().from(files).orderBy(asc(files.id));
	return { keys: listed.objects.map((o) => o.key).sort(), rows };
}

export type CallOptions = {
	method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
	headers?: Record<string, string>;
	body?: Uint8Array | ReadableStream<Uint8Array> | string | null;
	/** Variables over the test worker's (FILE_MAX_BYTES, FILE_QUOTA_BYTES). */
	env?: Record<string, unknown>;
};

/**
 * Calls a route module's handler as SvelteKit would: one request event, signed in by `token` (a
 * live session) or anonymous; an `error()` thrown by the handler becomes its JSON answer.
 */
export async function callRoute(
	handler: (event: never) => Response | Promise<Response>,
	token: string | null,
	path: string,
	params: Record<string, string>,
	options: CallOptions = {}
): Promise<Response> {
	const url = new URL(path, ORIGIN);
	const request = new Request(url, {
		method: options.method ?? 'GET',
		headers: options.headers,
		body: (options.body ?? null) as BodyInit | null
	});
	const locals: App.Locals = { user: null, session: null };
	if (token) {
		const { user, session } = await validateSessionToken(db(), token);
		locals.user = user;
		locals.session = session;
	}
	const ctx = createExecutionContext();
	const event = {
		request,
		url,
		params,
		locals,
		platform: { env: { ...env, ...options.env } as Env, ctx, caches },
		cookies: { get: () => undefined },
		setHeaders: () => {},
		route: { id: null }
	} as unknown as RequestEvent;
	try {
		return await (handler as (event: RequestEvent) => Promise<Response>)(event);
	} catch (e) {
		if (isHttpError(e)) return Response.json(e.body, { status: e.status });
		throw e;
	} finally {
		await waitOnExecutionContext(ctx);
	}
}

/** Someone calling the file routes: a person with a live session, or an anonymous visitor. */
export class FileClient {
	private constructor(
		public person: Person | null,
		private token: string | null
	) {}

	static async as(person: Person): Promise<FileClient> {
		return new FileClient(person, await sessionFor(person));
	}

	static anonymous(): FileClient {
		return new FileClient(null, null);
	}

	/** POSTs `body` to a room's upload route, named `name` (URI-encoded as a browser would). */
	upload(
		roomId: string,
		body: Uint8Array | ReadableStream<Uint8Array> | null,
		name = 'file.bin',
		options: CallOptions = {}
	): Promise<Response> {
		return this.call(
			uploadRoute.POST,
			`/api/rooms/${roomId}/files`,
			{ id: roomId },
			{
				method: 'POST',
				body,
				...options,
				headers: { 'x-file-name': encodeURIComponent(name), ...options.headers }
			}
		);
	}

	/** An upload that must succeed; answers the file's description. */
	async stored(
		roomId: string,
		body: Uint8Array | ReadableStream<Uint8Array>,
		name = 'file.bin',
		options: CallOptions = {}
	) {
		const response = await this.upload(roomId, body, name, options);
		if (response.status !== 201) {
			throw new Error(`upload refused: ${response.status} ${await response.text()}`);
		}
		return (await response.json()) as {
			id: string;
			name: string;
			type: string;
			kind: string;
			size: number;
			width: number | null;
			height: number | null;
			placeholder: string | null;
			url: string;
		};
	}

	download(url: string, options: CallOptions = {}): Promise<Response> {
		const path = new URL(url, ORIGIN);
		const id = path.pathname.split('/').pop()!;
		const handler = options.method === 'HEAD' ? fileRoute.HEAD : fileRoute.GET;
		return this.call(handler, path.pathname + path.search, { id }, options);
	}

	private call(
		handler: (event: never) => Response | Promise<Response>,
		path: string,
		params: Record<string, string>,
		options: CallOptions
	): Promise<Response> {
		return callRoute(handler, this.token, path, params, options);
	}
}

/** A body that arrives in pieces with no Content-Length, as a streamed upload does. */
export function streamOf(data: Uint8Array, chunk = 256): ReadableStream<Uint8Array> {
	let at = 0;
	return new ReadableStream({
		pull(controller) {
			if (at >= data.length) return controller.close();
			controller.enqueue(data.slice(at, at + chunk));
			at += chunk;
		}
	});
}
