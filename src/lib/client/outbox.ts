// Messages written but not yet acknowledged by the room, kept in IndexedDB so that a reload, a
// crash or a night offline loses none of them. Each keeps its `clientId`: however often it is sent
// (from this tab, after a reload, from a second tab), the room stores it once.

import * as v from 'valibot';
import {
	MAX_ATTACHMENTS,
	MAX_CLIENT_ID_LENGTH,
	MAX_MENTIONS,
	ReplyPreview
} from '$shared/protocol';
import { openLocalStore, type LocalDatabase } from './local-store';
import { UploadedFileSchema } from './upload-meta';

/** A dimension the browser measured (the server's own bound, `upload-headers.ts`). */
const Pixels = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535)));

/**
 * One file of an unsent message: its bytes, what was measured of it, and once stored, what the
 * server answered. `key` is its upload's resume key (`resumeKeyOf`).
 */
const OutboxFile = v.object({
	key: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_ID_LENGTH + 8)),
	blob: v.blob(),
	name: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
	kindHint: v.optional(v.picklist(['audio', 'video'])),
	width: Pixels,
	height: Pixels,
	placeholder: v.optional(v.pipe(v.string(), v.maxLength(100))),
	/** In an end-to-end encrypted room, its key: the same through every retry and reload. */
	secret: v.optional(v.object({ key: v.string(), iv: v.string() })),
	uploaded: v.optional(UploadedFileSchema)
});
export type OutboxFile = v.InferOutput<typeof OutboxFile>;

/**
 * What IndexedDB hands back is whatever was stored there: by an older version of the app, by
 * another tab, or by hand in the devtools. Each entry is checked before it is shown or resent.
 */
const OutboxEntry = v.object({
	clientId: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_CLIENT_ID_LENGTH)),
	roomId: v.string(),
	userId: v.string(),
	body: v.string(),
	replyTo: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
	/** The quote shown with it while it waits. */
	replyPreview: v.optional(ReplyPreview),
	/**
	 * In an end-to-end encrypted room, where `body` is ciphertext: whom it mentions, found in this
	 * browser (the room cannot read the words).
	 */
	mentions: v.optional(v.pipe(v.array(v.string()), v.maxLength(MAX_MENTIONS))),
	/**
	 * In an end-to-end encrypted room, a message with files: `body` is the words, encrypted (with
	 * its files' names and keys) once the files are stored.
	 */
	sealLater: v.optional(v.literal(true)),
	createdAt: v.pipe(v.number(), v.finite()),
	/** Why the room refused it; it then waits for the user to retry or discard it. */
	failed: v.optional(v.string()),
	/** Its files, in the order shown; it is sent once every one is stored. */
	files: v.optional(
		v.pipe(
			v.array(OutboxFile),
			v.minLength(1),
			v.maxLength(MAX_ATTACHMENTS),
			v.check((files) => new Set(files.map((f) => f.key)).size === files.length, 'keys repeat')
		)
	)
});
export type OutboxEntry = v.InferOutput<typeof OutboxEntry>;

/**
 * The well-formed entries of `stored`. The others are left out (and logged) rather than shown or
 * sent, so one bad entry never keeps the room, or the other unsent messages, from working. They
 * stay in IndexedDB: a newer version of the app in another tab may still read them.
 */
export function parseOutboxEntries(stored: readonly unknown[]): OutboxEntry[] {
	const entries: OutboxEntry[] = [];
	for (const item of stored) {
		const parsed = v.safeParse(OutboxEntry, item);
		if (parsed.success) entries.push(parsed.output);
		else console.warn('outbox: skipping an unreadable entry', v.flatten(parsed.issues).nested);
	}
	return entries;
}

const STORE = 'outbox';

/** The person's unsent messages, in their database (`local-store.ts`). */
export class Outbox {
	#db: Promise<LocalDatabase | null>;

	/**
	 * Without IndexedDB (some private modes) the outbox lives as long as the tab: still correct,
	 * only not across reloads.
	 */
	constructor(userId: string) {
		this.#db = openLocalStore(userId);
	}

	/** This user's unsent messages in this room, oldest first. */
	async list(roomId: string, userId: string): Promise<OutboxEntry[]> {
		const db = await this.#db;
		if (!db) return [];
		const stored = await db.getAllFromIndex(STORE, 'room', roomId);
		return parseOutboxEntries(stored)
			.filter((e) => e.userId === userId && e.roomId === roomId)
			.sort((a, b) => a.createdAt - b.createdAt);
	}

	/** Keeps `entry`, its files' bytes included (IndexedDB stores a Blob as it is). */
	async put(entry: OutboxEntry): Promise<void> {
		const db = await this.#db;
		if (!db) return;
		await db.put(STORE, entry);
	}

	async delete(clientId: string): Promise<void> {
		const db = await this.#db;
		if (!db) return;
		await db.delete(STORE, clientId);
	}
}
