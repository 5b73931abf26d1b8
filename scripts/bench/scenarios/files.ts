// files: upload and download throughput through the app on loopback, with the local R2 behind it.
// One 20 MB file in parts (start, parts with the first alone then a few at once, complete), read
// back whole by another member; then 100 small PNGs (30 kB) in one request each, a few at a time
// spread over several members (the upload rate limit is per person), read back the same way.
// Every byte read back is compared with what was sent. `clients` is the number of uploaders of the
// small files, `senders` how many requests are in flight at once.
import type { Account } from '../../lib/parley-client.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { round } from '../stats.ts';

const MB = 1_000_000;
const BIG_BYTES = 20 * MB;
const SMALL_BYTES = 30_000;
const SMALL_COUNT = 100;
/** Parts in flight at once after the first, as the browser's client sends them. */
const PARALLEL_PARTS = 3;

/** A whole 1×1 PNG: the type check needs real magic numbers. */
const PNG = Buffer.from(
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
	'base64'
);

/** `size` bytes starting with a PNG, then a pattern (not noise: see tests/routes/files.test.ts). */
function pngOf(size: number, seed: number): Uint8Array {
	const data = new Uint8Array(size);
	for (let i = 0; i < size; i++) data[i] = (i * 31 + seed) % 251;
	data.set(PNG);
	return data;
}

type FileInfo = { id: string; url: string; size: number };

/**
 * Requests that failed at the socket and were sent again. On loopback the runtime sometimes
 * closes a kept-alive connection just as the client sends the next request on it ("other side
 * closed"); the bench sends it again, as the browser client does, and says how often it happened.
 */
let networkRetries = 0;

/** A request that must succeed (sent again up to twice on a socket failure); names the step. */
async function ok(request: () => Promise<Response>, what: string): Promise<Response> {
	for (let attempt = 0; ; attempt++) {
		let response: Response;
		try {
			response = await request();
		} catch (err) {
			if (attempt < 2 && !(err instanceof Error && err.name === 'AbortError')) {
				networkRetries++;
				continue;
			}
			const cause = err instanceof Error && err.cause ? `: ${String(err.cause)}` : '';
			throw new Error(`${what}: ${String(err)}${cause}`, { cause: err });
		}
		if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
		return response;
	}
}

function headers(ctx: Context, account: Account, extra: Record<string, string> = {}) {
	return { cookie: account.cookie, origin: new URL(ctx.base).origin, ...extra };
}

/** The browser client's protocol, with fetch: start, part 1, the rest a few at a time, complete. */
async function uploadInParts(
	ctx: Context,
	account: Account,
	roomId: string,
	data: Uint8Array
): Promise<FileInfo> {
	const start = await ok(
		() =>
			fetch(`${ctx.base}/api/rooms/${roomId}/uploads`, {
				method: 'POST',
				headers: headers(ctx, account, { 'content-type': 'application/json' }),
				body: JSON.stringify({ name: 'big.png', size: data.length, width: 1, height: 1 }),
				signal: ctx.signal
			}),
		'start'
	);
	const { id, partSize } = (await start.json()) as { id: string; partSize: number };
	const count = Math.ceil(data.length / partSize);
	const send = async (n: number) => {
		const body = data.subarray((n - 1) * partSize, Math.min(data.length, n * partSize));
		await ok(
			() =>
				fetch(`${ctx.base}/api/uploads/${id}/parts/${n}`, {
					method: 'PUT',
					headers: headers(ctx, account, { 'content-type': 'application/octet-stream' }),
					body,
					signal: ctx.signal
				}),
			`part ${n}`
		);
	};
	await send(1);
	const queue = Array.from({ length: count - 1 }, (_, i) => i + 2);
	await Promise.all(
		Array.from({ length: PARALLEL_PARTS }, async () => {
			for (let n = queue.shift(); n !== undefined; n = queue.shift()) await send(n);
		})
	);
	const done = await ok(
		() =>
			fetch(`${ctx.base}/api/uploads/${id}/complete`, {
				method: 'POST',
				headers: headers(ctx, account),
				signal: ctx.signal
			}),
		'complete'
	);
	return (await done.json()) as FileInfo;
}

async function uploadOne(
	ctx: Context,
	account: Account,
	roomId: string,
	data: Uint8Array,
	name: string
): Promise<FileInfo> {
	const response = await ok(
		() =>
			fetch(`${ctx.base}/api/rooms/${roomId}/files`, {
				method: 'POST',
				headers: headers(ctx, account, {
					'content-type': 'application/octet-stream',
					'x-file-name': encodeURIComponent(name)
				}),
				body: data,
				signal: ctx.signal
			}),
		`upload ${name}`
	);
	return (await response.json()) as FileInfo;
}

/** Reads a file whole and checks it is the bytes sent. */
async function download(ctx: Context, account: Account, file: FileInfo, sent: Uint8Array) {
	const response = await ok(
		() => fetch(`${ctx.base}${file.url}`, { headers: headers(ctx, account), signal: ctx.signal }),
		`download ${file.id}`
	);
	const got = new Uint8Array(await response.arrayBuffer());
	if (got.length !== sent.length || !Buffer.from(got).equals(Buffer.from(sent))) {
		throw new Error(`download ${file.id}: the bytes differ from those sent`);
	}
}

/** Runs `work` over `items`, `limit` at a time. */
async function inParallel<T>(
	items: T[],
	limit: number,
	work: (item: T, i: number) => Promise<void>
) {
	let next = 0;
	await Promise.all(
		Array.from({ length: Math.min(limit, items.length) }, async () => {
			for (let i = next++; i < items.length; i = next++) await work(items[i]!, i);
		})
	);
}

/** Seconds since `started`, and MB/s for `bytes` in that time. */
function rate(bytes: number, started: number) {
	const seconds = (performance.now() - started) / 1000;
	return { ms: Math.round(seconds * 1000), mbPerSecond: round(bytes / MB / seconds, 1) };
}

export const files: Scenario = {
	defaults: { clients: 4, senders: 4, rate: 0, duration: 0 },
	// The uploaders of the small files, and one more member who reads everything back.
	accounts: (s) => Math.max(1, s.clients) + 1,
	async run(ctx: Context, s: Settings): Promise<Result> {
		networkRetries = 0;
		const roomId = ctx.rooms.files;
		if (!roomId) throw new Error('no room seeded for files');
		const uploaders = ctx.accounts.slice(0, Math.max(1, s.clients));
		const reader = ctx.accounts[uploaders.length]!;
		const concurrency = Math.max(1, s.senders);

		const big = pngOf(BIG_BYTES, 0);
		log(`files: one ${BIG_BYTES / MB} MB file in parts`);
		let started = performance.now();
		const bigFile = await uploadInParts(ctx, uploaders[0]!, roomId, big);
		const bigUp = rate(BIG_BYTES, started);
		started = performance.now();
		await download(ctx, reader, bigFile, big);
		const bigDown = rate(BIG_BYTES, started);

		const small = Array.from({ length: SMALL_COUNT }, (_, i) => pngOf(SMALL_BYTES, i + 1));
		const stored: FileInfo[] = new Array<FileInfo>(SMALL_COUNT);
		log(`files: ${SMALL_COUNT} images of ${SMALL_BYTES / 1000} kB, ${concurrency} at a time`);
		started = performance.now();
		await inParallel(small, concurrency, async (data, i) => {
			stored[i] = await uploadOne(ctx, uploaders[i % uploaders.length]!, roomId, data, `${i}.png`);
		});
		const smallUp = rate(SMALL_BYTES * SMALL_COUNT, started);
		started = performance.now();
		await inParallel(stored, concurrency, (file, i) => download(ctx, reader, file, small[i]!));
		const smallDown = rate(SMALL_BYTES * SMALL_COUNT, started);

		return {
			scenario: 'files',
			bigFileMB: BIG_BYTES / MB,
			bigUploadMs: bigUp.ms,
			bigUploadMBps: bigUp.mbPerSecond,
			bigDownloadMs: bigDown.ms,
			bigDownloadMBps: bigDown.mbPerSecond,
			smallFiles: SMALL_COUNT,
			smallFileKB: SMALL_BYTES / 1000,
			concurrency,
			smallUploadMs: smallUp.ms,
			smallUploadMBps: smallUp.mbPerSecond,
			smallUploadFilesPerSecond: round(SMALL_COUNT / (smallUp.ms / 1000), 1),
			smallDownloadMs: smallDown.ms,
			smallDownloadMBps: smallDown.mbPerSecond,
			smallDownloadFilesPerSecond: round(SMALL_COUNT / (smallDown.ms / 1000), 1),
			networkRetries
		};
	}
};
