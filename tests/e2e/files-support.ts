// Helpers for the end-to-end tests of shared files, independent of the composer: a file goes up
// through the real upload route (with the page's own session cookie), and a message carrying it
// goes through the room's real socket, as the composer would send it.
import { expect, type Page } from '@playwright/test';
import { rgbaToThumbHash } from 'thumbhash';

export type UploadedFile = {
	id: string;
	name: string;
	kind: string;
	size: number;
	width: number | null;
	height: number | null;
	placeholder: string | null;
	url: string;
};

export type UploadOptions = {
	name: string;
	width?: number;
	height?: number;
	placeholder?: string;
};

/** The id of the room a page shows (`/rooms/<id>`). */
export function roomIdOf(page: Page): string {
	return new URL(page.url()).pathname.split('/')[2]!;
}

/** Uploads `bytes` to the page's room as its person; fails the test if the upload is refused. */
export async function uploadFile(
	page: Page,
	bytes: Buffer,
	options: UploadOptions
): Promise<UploadedFile> {
	const headers: Record<string, string> = {
		'content-type': 'application/octet-stream',
		'x-file-name': encodeURIComponent(options.name)
	};
	if (options.width) headers['x-file-width'] = String(options.width);
	if (options.height) headers['x-file-height'] = String(options.height);
	if (options.placeholder) headers['x-file-placeholder'] = options.placeholder;
	const response = await page.request.post(`/api/rooms/${roomIdOf(page)}/files`, {
		data: bytes,
		headers
	});
	expect(response.status(), await response.text()).toBe(201);
	return (await response.json()) as UploadedFile;
}

/**
 * Sends a message carrying `files` (and a caption) to the page's room over a socket of its own,
 * and waits for the room's ack.
 */
export async function sendFiles(page: Page, files: UploadedFile[], body = ''): Promise<void> {
	const answer = await page.evaluate(
		async ({ roomId, body, attachments }) => {
			const url = new URL(`/ws/room/${roomId}`, location.href);
			url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
			const ws = new WebSocket(url);
			await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
			const clientId = `files-${Math.random().toString(36).slice(2)}`;
			const frame = await new Promise<{ type: string; message?: string }>((resolve) => {
				ws.addEventListener('message', (event: MessageEvent) => {
					const data: unknown = JSON.parse(String(event.data));
					const frames = (Array.isArray(data) ? data : [data]) as {
						type: string;
						clientId?: string;
						message?: string;
					}[];
					const mine = frames.find(
						(f) => f.clientId === clientId && (f.type === 'ack' || f.type === 'error')
					);
					if (mine) resolve(mine);
				});
				ws.send(JSON.stringify({ type: 'send', clientId, body, attachments }));
			});
			ws.close();
			return frame;
		},
		{ roomId: roomIdOf(page), body, attachments: files.map((f) => f.id) }
	);
	expect(answer, answer.message).toMatchObject({ type: 'ack' });
}

/** A real PNG of `width`×`height`, a horizontal gradient from `from` to `to`, drawn by the page. */
export async function drawPng(
	page: Page,
	width: number,
	height: number,
	from = '#ff7a18',
	to = '#1e3a8a'
): Promise<Buffer> {
	const dataUrl = await page.evaluate(
		({ width, height, from, to }) => {
			const canvas = document.createElement('canvas');
			canvas.width = width;
			canvas.height = height;
			const context = canvas.getContext('2d')!;
			const gradient = context.createLinearGradient(0, 0, width, 0);
			gradient.addColorStop(0, from);
			gradient.addColorStop(1, to);
			context.fillStyle = gradient;
			context.fillRect(0, 0, width, height);
			return canvas.toDataURL('image/png');
		},
		{ width, height, from, to }
	);
	return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

/** A thumbhash (base64) of a flat colour, as the uploader's browser would send for a picture. */
export function flatPlaceholder(width: number, height: number, rgb: [number, number, number]) {
	const rgba = new Uint8Array(width * height * 4);
	for (let i = 0; i < rgba.length; i += 4) rgba.set([...rgb, 255], i);
	return Buffer.from(rgbaToThumbHash(width, height, rgba)).toString('base64');
}

/** A small, real PDF. */
export const PDF = Buffer.from(
	'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n',
	'utf8'
);
