// Measures an image (or a video's first frame) before it is uploaded: its size in pixels and a
// thumbhash placeholder, so the timeline can show it at its final size before its bytes arrive.
// Loaded with a dynamic `import()` when a file is attached: thumbhash and the canvas work stay out
// of the room page's first load.

import { rgbaToThumbHash } from 'thumbhash';

export type MediaMeasure = { width?: number; height?: number; placeholder?: string };

/** Thumbhash works on images of at most 100 px a side. */
const HASH_SIDE = 100;
/** A video that shows no frame by then is sent unmeasured. */
const VIDEO_TIMEOUT_MS = 3000;

/** What can be measured of `file`; nothing (an empty object) for what is not an image or video. */
export async function measureMedia(file: Blob): Promise<MediaMeasure> {
	try {
		if (file.type.startsWith('image/') && file.type !== 'image/svg+xml') {
			const bitmap = await createImageBitmap(file);
			try {
				return measureFrame(bitmap, bitmap.width, bitmap.height);
			} finally {
				bitmap.close();
			}
		}
		if (file.type.startsWith('video/')) return await measureVideo(file);
	} catch {
		// A file the browser cannot decode goes up unmeasured; the server decides what it is.
	}
	return {};
}

function measureFrame(source: CanvasImageSource, width: number, height: number): MediaMeasure {
	if (width < 1 || height < 1) return {};
	const scale = Math.min(1, HASH_SIDE / Math.max(width, height));
	const w = Math.max(1, Math.round(width * scale));
	const h = Math.max(1, Math.round(height * scale));
	const canvas = document.createElement('canvas');
	canvas.width = w;
	canvas.height = h;
	const context = canvas.getContext('2d');
	if (!context) return { width, height };
	context.drawImage(source, 0, 0, w, h);
	const pixels = context.getImageData(0, 0, w, h).data;
	return { width, height, placeholder: toBase64(rgbaToThumbHash(w, h, pixels)) };
}

function measureVideo(file: Blob): Promise<MediaMeasure> {
	const url = URL.createObjectURL(file);
	const video = document.createElement('video');
	video.muted = true;
	video.preload = 'auto';
	video.playsInline = true;
	return new Promise<MediaMeasure>((resolve) => {
		const finish = (measure: MediaMeasure) => {
			clearTimeout(timer);
			video.removeAttribute('src');
			video.load();
			URL.revokeObjectURL(url);
			resolve(measure);
		};
		const timer = setTimeout(() => finish({}), VIDEO_TIMEOUT_MS);
		video.onloadeddata = () => {
			try {
				finish(measureFrame(video, video.videoWidth, video.videoHeight));
			} catch {
				finish({});
			}
		};
		video.onerror = () => finish({});
		video.src = url;
	});
}

function toBase64(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}
