// placeholder: how soon another person's browser shows a picture's placeholder, and whether the
// timeline moves when the picture's bytes arrive. One member uploads a 2 MB image (a real PNG,
// with the width, height and thumbhash a browser would measure) and sends it; another member has
// the room open in Chromium. In that page a MutationObserver notes when the picture's box enters
// the timeline (the message's arrival), when its placeholder is its background, and, once the
// image has loaded, whether the box changed size. Times on both sides are Date.now() of the same
// machine. The first picture also loads the placeholder decoder, so it is reported apart.
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser } from '@playwright/test';
import { rgbaToThumbHash } from 'thumbhash';
import type WebSocket from 'ws';
import { framesOf, openRoomSocket, type Account, type Frame } from '../../lib/parley-client.ts';
import { signedInBrowser } from '../browser.ts';
import type { Context, Result, Scenario, Settings } from '../context.ts';
import { log } from '../log.ts';
import { round } from '../stats.ts';

/** 820 × 820 pixels of noise: a PNG of about 2 MB that the browser really decodes. */
const SIDE = 820;
const WAIT_MS = 15_000;
/** Pictures sent, one after another. */
const PICTURES = 10;

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function pngChunk(type: string, data: Buffer): Buffer {
	const head = Buffer.alloc(4);
	head.writeUInt32BE(data.length);
	const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(body));
	return Buffer.concat([head, body, crc]);
}

/** A truecolour PNG of random pixels (file formats are not crypto: written here, checked by the browser). */
function noisePng(side: number): Buffer {
	const header = Buffer.alloc(13);
	header.writeUInt32BE(side, 0);
	header.writeUInt32BE(side, 4);
	header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
	const row = 1 + side * 3;
	const raw = randomBytes(row * side);
	for (let y = 0; y < side; y++) raw[y * row] = 0; // each row: filter type "none"
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		pngChunk('IHDR', header),
		pngChunk('IDAT', deflateSync(raw, { level: 1 })),
		pngChunk('IEND', Buffer.alloc(0))
	]);
}

/** A thumbhash as a browser would send it (of a small grey-ish square: noise averages out). */
function placeholder(): string {
	const side = 32;
	const rgba = new Uint8Array(side * side * 4);
	for (let i = 0; i < rgba.length; i += 4) rgba.set([110 + (i % 37), 120, 130, 255], i);
	return Buffer.from(rgbaToThumbHash(side, side, rgba)).toString('base64');
}

type Seen = { arrived: number; placeholder?: number; loaded?: number; shift?: number };

/**
 * Run in the page: notes each picture box's arrival, placeholder and load in `window.__pictures`
 * (as text: the bench's scripts are type-checked without the DOM's types).
 */
const WATCH_PICTURES = `(() => {
	const seen = (window.__pictures = {});
	const look = () => {
		for (const box of document.querySelectorAll('button.image[data-file-id]')) {
			const id = box.dataset.fileId;
			let entry = seen[id];
			if (!entry) {
				entry = seen[id] = { arrived: Date.now() };
				const height = box.getBoundingClientRect().height;
				const img = box.querySelector('img');
				const done = () => {
					entry.loaded = Date.now();
					entry.shift = Math.abs(box.getBoundingClientRect().height - height);
				};
				if (img && img.complete && img.naturalWidth > 0) done();
				else if (img) img.addEventListener('load', done, { once: true });
			}
			if (entry.placeholder === undefined && box.style.backgroundImage.startsWith('url(')) {
				entry.placeholder = Date.now();
			}
		}
	};
	new MutationObserver(look).observe(document.body, {
		subtree: true,
		childList: true,
		attributes: true,
		attributeFilter: ['style']
	});
	look();
})()`;

/**
 * The page's record of one picture once it has both its placeholder and its bytes. A function,
 * not text: the page's CSP refuses to evaluate strings.
 */
function pictureSeen(id: string): Seen | null {
	const entry = (globalThis as unknown as { __pictures: Record<string, Seen> }).__pictures[id];
	return entry && entry.placeholder !== undefined && entry.loaded !== undefined ? entry : null;
}

async function upload(ctx: Context, account: Account, roomId: string, png: Buffer, hash: string) {
	const response = await fetch(`${ctx.base}/api/rooms/${roomId}/files`, {
		method: 'POST',
		headers: {
			cookie: account.cookie,
			origin: new URL(ctx.base).origin,
			'content-type': 'application/octet-stream',
			'x-file-name': 'noise.png',
			'x-file-width': String(SIDE),
			'x-file-height': String(SIDE),
			'x-file-placeholder': hash
		},
		body: png,
		signal: ctx.signal
	});
	if (!response.ok) throw new Error(`upload: ${response.status} ${await response.text()}`);
	return ((await response.json()) as { id: string }).id;
}

/** The sender's socket: says hello, then sends and waits for each ack. */
async function senderSocket(ctx: Context, account: Account, roomId: string) {
	const waiting = new Map<string, () => void>();
	let welcomed: () => void = () => {};
	const welcome = new Promise<void>((resolve) => (welcomed = resolve));
	const ws: WebSocket = await openRoomSocket(ctx.base, account, roomId, 15_000, (data) => {
		for (const frame of framesOf(data) as Frame[]) {
			if (frame.type === 'welcome') welcomed();
			if (frame.type === 'ack') waiting.get(String(frame.clientId))?.();
			if (frame.type === 'error') log(`placeholder: the room refused: ${JSON.stringify(frame)}`);
		}
	});
	ws.send(JSON.stringify({ type: 'hello', lastSeq: 0 }));
	await welcome;
	return {
		send(clientId: string, fileId: string) {
			const acked = new Promise<void>((resolve) => waiting.set(clientId, resolve));
			ws.send(JSON.stringify({ type: 'send', clientId, body: '', attachments: [fileId] }));
			return acked;
		},
		close: () => ws.close()
	};
}

export const placeholderScenario: Scenario = {
	defaults: { clients: 2, senders: 1, rate: 0, duration: 0 },
	accounts: () => 2,
	async run(ctx: Context, _s: Settings): Promise<Result> {
		const roomId = ctx.rooms.placeholder;
		if (!roomId) throw new Error('no room seeded for placeholder');
		const [sender, reader] = ctx.accounts as [Account, Account];
		const pictures = PICTURES;
		const hash = placeholder();
		let browser: Browser | null = null;
		const socket = await senderSocket(ctx, sender, roomId);
		try {
			const opened = await signedInBrowser(ctx.base, reader);
			browser = opened.browser;
			const page = await opened.context.newPage();
			await page.goto(`${ctx.base}/rooms/${roomId}`);
			await page.waitForSelector('section[data-connection="open"]', { timeout: WAIT_MS });
			await page.evaluate(WATCH_PICTURES);

			const sendToArrival: number[] = [];
			const arrivalToPlaceholder: number[] = [];
			const sendToLoaded: number[] = [];
			let shiftMax = 0;
			let fileBytes = 0;
			log(`placeholder: ${pictures} pictures of ${SIDE}×${SIDE} to a browser`);
			for (let i = 0; i < pictures; i++) {
				const png = noisePng(SIDE);
				fileBytes = png.length;
				const fileId = await upload(ctx, sender, roomId, png, hash);
				const sentAt = Date.now();
				await socket.send(`placeholder-${i}-${sentAt}`, fileId);
				const seen = (await page
					.waitForFunction(pictureSeen, fileId, { timeout: WAIT_MS, polling: 20 })
					.then((handle) => handle.jsonValue())) as Seen;
				sendToArrival.push(seen.arrived - sentAt);
				arrivalToPlaceholder.push(seen.placeholder! - seen.arrived);
				sendToLoaded.push(seen.loaded! - sentAt);
				shiftMax = Math.max(shiftMax, seen.shift ?? 0);
			}
			const later = arrivalToPlaceholder.slice(1);
			return {
				scenario: 'placeholder',
				pictures,
				fileMB: round(fileBytes / 1_000_000, 2),
				firstArrivalToPlaceholderMs: arrivalToPlaceholder[0],
				arrivalToPlaceholderP50: median(later),
				arrivalToPlaceholderMax: Math.max(...later),
				sendToArrivalP50: median(sendToArrival),
				sendToArrivalMax: Math.max(...sendToArrival),
				sendToLoadedP50: median(sendToLoaded),
				boxHeightShiftMaxPx: round(shiftMax, 1)
			};
		} finally {
			socket.close();
			await browser?.close();
		}
	}
};
