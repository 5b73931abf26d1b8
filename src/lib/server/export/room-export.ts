// A room's whole history, for the people who run it: as JSON (for tools) and as one readable HTML
// page (for people, and for paper). A group or public room is exported by its owner and admins
// (the rules' `edit`: the same rank that runs the room), and each export is written to the audit
// log. A direct conversation has no admins: either of its two people may export it, as either may
// read it all (the rules' `read`, so a block between them refuses it as it refuses reading), and
// that is nobody's moderation, so it is not audited.
//
// Both formats are streamed, a page of history at a time, read the way the room's timeline pages
// are (`readHistory`: D1's rows with the room object's not-yet-flushed tail over them), so the last
// seconds' messages are in and a long history never sits in memory whole.
import type { Db } from '$lib/server/db';
import type { ChatMessage } from '$shared/protocol';
import { deny, type Actor, type Done } from '$lib/server/outcome';
import { decideRoom, loadRoomAccess } from '$lib/server/rooms/authz';
import type { Room } from '$lib/server/rooms/rooms';
import { peerNameOf } from '$lib/server/rooms/direct-rooms';
import { readHistory, type UnflushedSource } from '$lib/server/rooms/history';
import { listMembers, type Member } from '$lib/server/rooms/members';
import { recordAudit } from '$lib/server/moderation/audit';
import { isTimeZone } from '$shared/notify';
import { HtmlMessages, htmlEnd, htmlStart } from './room-html';
import { attachment, isoDay, isoTime, textStream } from './stream';

export const ROOM_EXPORT_FORMATS = ['json', 'html'] as const;
export type RoomExportFormat = (typeof ROOM_EXPORT_FORMATS)[number];

/** Messages per page of history read (and written) at a time. */
export const ROOM_EXPORT_PAGE_SIZE = 200;
const MEMBER_PAGE_SIZE = 500;

const KIND_LABELS = { direct: 'Direct conversation', group: 'Group', public: 'Public room' };

export type RoomExportDeps = {
	db: Db;
	/** The room's object, for the messages D1 may not have yet. */
	room: UnflushedSource;
};

export type RoomExport = {
	body: ReadableStream<Uint8Array>;
	contentType: string;
	fileName: string;
};

/**
 * Authorizes the export, records it, and answers its stream. `timeZone` is the reader's (the
 * HTML page's days and times are in it); an unknown one falls back to UTC.
 */
export async function exportRoom(
	deps: RoomExportDeps,
	actor: Actor,
	roomId: string,
	format: RoomExportFormat,
	options: { timeZone?: string; now?: number } = {}
): Promise<Done<RoomExport>> {
	const { db } = deps;
	const access = await loadRoomAccess(db, roomId, actor.id);
	const direct = access.room?.kind === 'direct';
	const decision = decideRoom(access, direct ? 'read' : 'edit');
	if (!decision.ok) return decision;
	const room = access.room!;
	if (!ROOM_EXPORT_FORMATS.includes(format)) {
		return deny(400, 'bad_input', 'Choose json or html.');
	}
	const now = options.now ?? Date.now();
	if (!direct) {
		await recordAudit(
			db,
			{
				actorId: actor.id,
				actorRole: 'room_admin',
				action: 'room.export',
				targetKind: 'room',
				targetId: room.id,
				roomId: room.id,
				details: { format }
			},
			now
		);
	}
	const title = await peerNameOf(db, room, actor.id);
	const timeZone = options.timeZone && isTimeZone(options.timeZone) ? options.timeZone : 'UTC';
	const fileName = `parley-${slug(title) || 'room'}-${isoDay(now)}.${format}`;
	const parts =
		format === 'json'
			? jsonParts(deps, room, title, now)
			: htmlParts(deps, room, title, now, timeZone);
	return {
		ok: true,
		body: textStream(parts),
		contentType: format === 'json' ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
		fileName
	};
}

/** The headers of an export's download: saved as a file, never shown on the app's own origin. */
export function exportHeaders(exported: RoomExport): Record<string, string> {
	return {
		'Content-Type': exported.contentType,
		'Content-Disposition': attachment(exported.fileName),
		'Cache-Control': 'private, no-store',
		// Should it be shown all the same: no script, nothing fetched, nothing of the app's.
		'Content-Security-Policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'"
	};
}

/** Every message of the room in seq order, a page at a time. */
async function* history({ db, room }: RoomExportDeps, roomId: string) {
	let after = 0;
	for (;;) {
		const page = await readHistory(db, room, roomId, { after }, ROOM_EXPORT_PAGE_SIZE);
		if (page.messages.length > 0) yield page.messages;
		if (!page.hasMore || page.messages.length === 0) return;
		after = page.messages.at(-1)!.seq;
	}
}

/** The room's members, a page at a time, owners and admins first. */
async function* members(db: Db, roomId: string) {
	let after: Member | undefined;
	for (;;) {
		const page = await listMembers(db, roomId, { after, limit: MEMBER_PAGE_SIZE });
		if (page.length > 0) yield page;
		if (page.length < MEMBER_PAGE_SIZE) return;
		after = page.at(-1);
	}
}

async function* jsonParts(
	deps: RoomExportDeps,
	room: Room,
	title: string,
	now: number
): AsyncGenerator<string> {
	const head = {
		format: 'parley.room-history',
		version: 1,
		exportedAt: isoTime(now),
		room: {
			id: room.id,
			kind: room.kind,
			name: title,
			description: room.description,
			createdAt: isoTime(room.createdAt)
		}
	};
	const opening = JSON.stringify(head, null, '\t');
	yield `${opening.slice(0, opening.lastIndexOf('}')).trimEnd()},\n\t"members": [`;
	let first = true;
	for await (const page of members(deps.db, room.id)) {
		yield page
			.map((m) => {
				const line = JSON.stringify({
					id: m.id,
					username: m.username,
					displayName: m.displayName,
					role: m.role,
					bot: m.kind === 'bot' || undefined,
					joinedAt: isoTime(m.joinedAt)
				});
				const separator = first ? '\n\t\t' : ',\n\t\t';
				first = false;
				return separator + line;
			})
			.join('');
	}
	yield `\n\t],\n\t"messages": [`;
	first = true;
	for await (const page of history(deps, room.id)) {
		yield page
			.map((m) => {
				const separator = first ? '\n\t\t' : ',\n\t\t';
				first = false;
				return separator + JSON.stringify(messageJson(m));
			})
			.join('');
	}
	yield `\n\t]\n}\n`;
}

/**
 * One message as the export keeps it. A deleted one stays where it was as a tombstone: its seq,
 * sender and times, its words and files gone (as the room removed them).
 */
function messageJson(m: ChatMessage) {
	return {
		seq: m.seq,
		kind: m.kind,
		sender: m.senderId === null ? null : { id: m.senderId, name: m.senderName },
		bot: m.bot,
		sentAt: isoTime(m.createdAt),
		body: m.body,
		replyToSeq: m.replyTo?.seq,
		mentions: m.mentions,
		editedAt: isoTime(m.editedAt) ?? undefined,
		deletedAt: isoTime(m.deletedAt) ?? undefined,
		deleted: m.deletedAt !== undefined || undefined,
		removedByModerator: m.removedByModerator,
		reactions: m.reactions,
		attachments: m.attachments?.map((a) => ({
			id: a.id,
			name: a.name,
			type: a.type,
			kind: a.kind,
			size: a.size,
			width: a.width,
			height: a.height
		}))
	};
}

async function* htmlParts(
	deps: RoomExportDeps,
	room: Room,
	title: string,
	now: number,
	timeZone: string
): AsyncGenerator<string> {
	yield htmlStart({
		title,
		kindLabel: KIND_LABELS[room.kind],
		description: room.description,
		memberCount: room.memberCount,
		exportedAt: now,
		timeZone
	});
	const writer = new HtmlMessages(timeZone);
	let count = 0;
	for await (const page of history(deps, room.id)) {
		count += page.length;
		yield page.map((m) => writer.render(m)).join('');
	}
	yield htmlEnd(count);
}

/** A file name's piece from a room's name: lower-case ASCII letters and digits, dashes between. */
function slug(name: string): string {
	return name
		.normalize('NFKD')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, 40)
		.replace(/-+$/, '');
}
