// Profile pictures and room icons: small square raster images the browser has already cropped
// and resized. They are files like any other (`storeFile`: the rate limit, the quota, the type
// from the bytes, R2 then D1), with a purpose, a smaller limit, and a narrower list of types. A
// picture is current while `users.avatar_key` / `rooms.icon_key` names it: storing one names it
// in the same D1 batch as its row, and removing one only clears the name. The cleanup job
// (`file-cleanup.ts`, realtime worker) deletes pictures nobody names once they are an hour old,
// and `/files/<id>` serves only a current one (`readableFile`).
import { json } from '@sveltejs/kit';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import type { Denial } from '$lib/server/outcome';
import { authorizeRoom } from '$lib/server/rooms/authz';
import { recordAudit } from '$lib/server/moderation/audit';
import { MEMBER_LIST_LIMIT } from '$lib/server/rooms/members';
import { blocks, memberships, rooms, users } from '$shared/db/schema';
import { describeBytes } from './limits';
import { refuseFile, type FileDone, type FileRefusal } from './refusal';
import { fileUrl, storeFile, type FileStoreDeps, type StoredFile } from './store';
import type { DetectedType } from './types';

/**
 * The largest picture accepted: 2 MiB. The browser uploads a 256×256 WebP or JPEG of some tens
 * of kilobytes; the margin is for a browser that cannot encode either and falls back to PNG.
 */
export const PICTURE_MAX_BYTES = 2 * 1024 * 1024;

/** Raster images a browser's canvas writes; GIF (animated), AVIF and SVG are not pictures here. */
const PICTURE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);

/** Whose picture: a person's own, or a room's icon. */
export type PictureTarget = { purpose: 'avatar' } | { purpose: 'icon'; roomId: string };

export type PictureInput = {
	userId: string;
	target: PictureTarget;
	body: ReadableStream<Uint8Array> | null;
	declaredLength: number | null;
};

/**
 * The pictures a room's page shows, by id: each member's who has one (but not of someone who
 * blocked the viewer: they would not be served to them) and the room's icon. For a viewer who
 * may read the room; `Avatar` finds them by its `seed`.
 */
export async function roomPictures(
	db: Db,
	room: { id: string; iconKey: string | null },
	viewerId: string
): Promise<Record<string, string>> {
	const people = await db
		.select({ id: users.id, key: users.avatarKey })
		.from(memberships)
		.innerJoin(users, eq(users.id, memberships.userId))
		.where(
			and(
				eq(memberships.roomId, room.id),
				isNotNull(users.avatarKey),
				sql`not exists (select 1 from ${blocks} where ${blocks.blockerId} = ${users.id}
					and ${blocks.blockedId} = ${viewerId})`
			)
		)
		// As many as the member list shows; beyond them, initials.
		.limit(MEMBER_LIST_LIMIT);
	const pictures: Record<string, string> = {};
	for (const { id, key } of people) if (key) pictures[id] = fileUrl(key);
	if (room.iconKey) pictures[room.id] = fileUrl(room.iconKey);
	return pictures;
}

/**
 * Stores a new picture and makes it current, or refuses having changed nothing. A room's icon is
 * for whoever may change the room's name and description (`edit`: its admins; a direct room has
 * none). The previous picture is left for the cleanup job: it stops being served at once.
 */
export async function setPicture(
	deps: FileStoreDeps,
	input: PictureInput,
	now = Date.now()
): Promise<FileDone<{ url: string }> | Denial> {
	const { userId, target } = input;
	if (target.purpose === 'icon') {
		const auth = await authorizeRoom(deps.db, userId, target.roomId, 'edit');
		if (!auth.ok) return auth;
	}
	const stored = await storeFile(
		{ ...deps, limits: { ...deps.limits, maxBytes: PICTURE_MAX_BYTES } },
		{
			uploaderId: userId,
			roomId: target.purpose === 'icon' ? target.roomId : null,
			purpose: target.purpose,
			body: input.body,
			declaredLength: input.declaredLength,
			meta: { name: target.purpose === 'icon' ? 'icon' : 'avatar' },
			accept: acceptPicture,
			alongside: (file) => nameAsCurrent(deps.db, target, userId, file)
		},
		now
	);
	if (!stored.ok) return inPictureTerms(stored);
	if (target.purpose === 'icon') await auditIcon(deps.db, userId, target.roomId, 'room.icon_set');
	return { ok: true, url: fileUrl(stored.file.id) };
}

/** Clears the picture: initials again. The file is left for the cleanup job, served to no one. */
export async function removePicture(
	db: Db,
	userId: string,
	target: PictureTarget
): Promise<FileDone<object> | Denial> {
	if (target.purpose === 'avatar') {
		await db.update(users).set({ avatarKey: null }).where(eq(users.id, userId));
		return { ok: true };
	}
	const auth = await authorizeRoom(db, userId, target.roomId, 'edit');
	if (!auth.ok) return auth;
	await db.update(rooms).set({ iconKey: null }).where(eq(rooms.id, target.roomId));
	await auditIcon(db, userId, target.roomId, 'room.icon_remove');
	return { ok: true };
}

/** A room's icon changed by its owner or an admin, for the audit log. */
function auditIcon(db: Db, actorId: string, roomId: string, action: string): Promise<void> {
	return recordAudit(db, {
		actorId,
		actorRole: 'room_admin',
		action,
		targetKind: 'room',
		targetId: roomId,
		roomId
	});
}

/** The answer of the picture routes: 201 (or 204) on success, else `{ code, message }`. */
export function pictureResponse(
	done: FileDone<{ url: string }> | FileDone<object> | Denial
): Response {
	if (!done.ok) {
		const headers: Record<string, string> = {};
		if ('retryAfterSeconds' in done && done.retryAfterSeconds !== undefined) {
			headers['retry-after'] = String(done.retryAfterSeconds);
		}
		return json({ code: done.code, message: done.message }, { status: done.status, headers });
	}
	if ('url' in done && typeof done.url === 'string') {
		return json({ url: done.url }, { status: 201, headers: { location: done.url } });
	}
	return new Response(null, { status: 204 });
}

/**
 * Content-Length, if the request had a valid one (a chunked upload has none). The same reading as
 * the attachment upload route's.
 */
export function declaredLength(request: Request): number | null {
	const header = request.headers.get('content-length');
	if (header === null || !/^\d{1,16}$/.test(header.trim())) return null;
	return Number(header);
}

function acceptPicture(detected: DetectedType): FileRefusal | null {
	return PICTURE_TYPES.has(detected.type) ? null : notAPicture();
}

function notAPicture() {
	return refuseFile(415, 'unsupported_type', 'A picture must be a JPEG, PNG or WebP image.');
}

/** The file store's refusals of type and size, said of a picture (the rest stand as they are). */
function inPictureTerms(refusal: FileRefusal): FileRefusal {
	if (refusal.code === 'unsupported_type') return notAPicture();
	if (refusal.code === 'too_large') {
		return refuseFile(
			413,
			'too_large',
			`This picture is larger than ${describeBytes(PICTURE_MAX_BYTES)}: choose a smaller one.`
		);
	}
	return refusal;
}

/**
 * Names the new file as the person's or room's picture, in the batch that inserts its row; only
 * if the row was written (the quota may have refused it), so a refusal changes nothing.
 */
function nameAsCurrent(db: Db, target: PictureTarget, userId: string, file: StoredFile) {
	const written = sql`exists (select 1 from files where id = ${file.id})`;
	return target.purpose === 'avatar'
		? db
				.update(users)
				.set({ avatarKey: file.id })
				.where(and(eq(users.id, userId), written))
		: db
				.update(rooms)
				.set({ iconKey: file.id })
				.where(and(eq(rooms.id, target.roomId), written));
}
