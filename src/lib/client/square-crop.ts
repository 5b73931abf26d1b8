// Cropping a picture to a square and resizing it in the browser, for profile pictures and room
// icons: the server stores what this makes (a small WebP or JPEG) and never resizes anything.
// The crop is a square of the image's shorter side divided by the zoom, placed by a position in
// [0, 1] along each axis (0: against the left or top edge, 1: against the right or bottom).

/** The side of the picture that is uploaded, in pixels. */
export const PICTURE_SIZE = 256;

/** How far one can zoom in: the square's side down to a quarter of the image's shorter side. */
export const MAX_ZOOM = 4;

export type Crop = {
	/** 1 (the largest square the image holds) to `MAX_ZOOM`. */
	zoom: number;
	/** Where the square sits along the room the image leaves it, 0 to 1 on each axis. */
	x: number;
	y: number;
};

/** The square of the source image that is kept, in the image's pixels. */
export type SourceSquare = { sx: number; sy: number; side: number };

export const CENTRED: Crop = { zoom: 1, x: 0.5, y: 0.5 };

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** The source square a crop keeps of an image `width`×`height`. */
export function sourceSquare(width: number, height: number, crop: Crop): SourceSquare {
	const side = Math.min(width, height) / clamp(crop.zoom, 1, MAX_ZOOM);
	return {
		sx: (width - side) * clamp(crop.x, 0, 1),
		sy: (height - side) * clamp(crop.y, 0, 1),
		side
	};
}

/**
 * The crop moved by `dx`, `dy` pixels of a view that shows the kept square `viewSide` pixels wide,
 * the way a finger drags a picture: dragging right shows more of the left.
 */
export function dragCrop(
	width: number,
	height: number,
	crop: Crop,
	dx: number,
	dy: number,
	viewSide: number
): Crop {
	const { sx, sy, side } = sourceSquare(width, height, crop);
	const scale = side / viewSide;
	const travelX = width - side;
	const travelY = height - side;
	return {
		zoom: crop.zoom,
		x: travelX > 0 ? clamp((sx - dx * scale) / travelX, 0, 1) : 0.5,
		y: travelY > 0 ? clamp((sy - dy * scale) / travelY, 0, 1) : 0.5
	};
}

/** The crop nudged by a fraction of its travel on each axis (the arrow keys). */
export function nudgeCrop(crop: Crop, dx: number, dy: number): Crop {
	return { zoom: crop.zoom, x: clamp(crop.x + dx, 0, 1), y: clamp(crop.y + dy, 0, 1) };
}

/** The crop at another zoom, within bounds, keeping its position. */
export function zoomCrop(crop: Crop, zoom: number): Crop {
	return { ...crop, zoom: clamp(zoom, 1, MAX_ZOOM) };
}

/** Draws the kept square of `image` onto `canvas`, filling it. */
export function drawSquare(
	canvas: HTMLCanvasElement,
	image: ImageBitmap,
	crop: Crop
): CanvasRenderingContext2D | null {
	const context = canvas.getContext('2d');
	if (!context) return null;
	const { sx, sy, side } = sourceSquare(image.width, image.height, crop);
	context.imageSmoothingEnabled = true;
	context.imageSmoothingQuality = 'high';
	context.clearRect(0, 0, canvas.width, canvas.height);
	context.drawImage(image, sx, sy, side, side, 0, 0, canvas.width, canvas.height);
	return context;
}

/** Decodes a chosen file; refuses what the browser cannot decode as an image. */
export async function decodePicture(file: Blob): Promise<ImageBitmap> {
	try {
		return await createImageBitmap(file);
	} catch {
		throw new Error(
			'This file is not a picture this browser can open. Choose a JPEG, PNG or WebP.'
		);
	}
}

/**
 * The crop as a `PICTURE_SIZE`-pixel square image to upload: WebP where the browser writes it,
 * else JPEG (a browser that cannot encode a type silently writes PNG instead, which the server
 * takes too, but larger).
 */
export async function renderSquare(image: ImageBitmap, crop: Crop): Promise<Blob> {
	const canvas = document.createElement('canvas');
	canvas.width = PICTURE_SIZE;
	canvas.height = PICTURE_SIZE;
	const context = drawSquare(canvas, image, crop);
	if (!context) throw new Error('This browser cannot draw the picture.');
	const webp = await toBlob(canvas, 'image/webp', 0.85);
	if (webp?.type === 'image/webp') return webp;
	// JPEG has no transparency: put the picture on white first.
	context.globalCompositeOperation = 'destination-over';
	context.fillStyle = '#fff';
	context.fillRect(0, 0, canvas.width, canvas.height);
	const jpeg = await toBlob(canvas, 'image/jpeg', 0.88);
	if (!jpeg) throw new Error('This browser cannot save the picture.');
	return jpeg;
}

function toBlob(canvas: HTMLCanvasElement, type: string, quality: number): Promise<Blob | null> {
	return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}
