// Messages written but not yet acknowledged by the room, kept in IndexedDB so that a reload, a
// crash or a night offline loses none of them. Each keeps its `clientId`: however often it is sent
// (from this tab, after a reload, from a second tab), the room stores it once.

import * as v from 'valibot';
import { MAX_CLIENT_ID_LENGTH, ReplyPreview } from '$shared/protocol';

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
	createdAt: v.pipe(v.number(), v.finite()),
	/** Why the room refused it; it then waits for the user to retry or discard it. */
	failed: v.optional(v.string())
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

const DB_NAME = 'parley';
const DB_VERSION = 1;
const STORE = 'outbox';

function request<T>(req: IDBRequest<T>): Promise<T> {
	return new Promise((resolve, reject) => {
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
	});
}

function openDatabase(): Promise<IDBDatabase> {
	return new Promise((resolve, reject) => {
		const req = indexedDB.open(DB_NAME, DB_VERSION);
		req.onupgradeneeded = () => {
			const store = req.result.createObjectStore(STORE, { keyPath: 'clientId' });
			store.createIndex('room', 'roomId');
		};
		req.onsuccess = () => resolve(req.result);
		req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
		req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
	});
}

export class Outbox {
	#db: Promise<IDBDatabase | null>;

	constructor() {
		// Without IndexedDB (some private modes) the outbox lives as long as the tab: still correct,
		// only not across reloads.
		this.#db =
			typeof indexedDB === 'undefined'
				? Promise.resolve(null)
				: openDatabase().catch((err: unknown) => {
						console.warn('outbox: IndexedDB unavailable, keeping unsent messages in memory', err);
						return null;
					});
	}

	/** This user's unsent messages in this room, oldest first. */
	async list(roomId: string, userId: string): Promise<OutboxEntry[]> {
		const db = await this.#db;
		if (!db) return [];
		const store = db.transaction(STORE, 'readonly').objectStore(STORE);
		const stored: unknown[] = await request(store.index('room').getAll(roomId));
		return parseOutboxEntries(stored)
			.filter((e) => e.userId === userId && e.roomId === roomId)
			.sort((a, b) => a.createdAt - b.createdAt);
	}

	async put(entry: OutboxEntry): Promise<void> {
		const db = await this.#db;
		if (!db) return;
		await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(entry));
	}

	async delete(clientId: string): Promise<void> {
		const db = await this.#db;
		if (!db) return;
		await request(db.transaction(STORE, 'readwrite').objectStore(STORE).delete(clientId));
	}
}
