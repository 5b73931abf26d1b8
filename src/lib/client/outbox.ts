// Messages written but not yet acknowledged by the room, kept in IndexedDB so that a reload, a
// crash or a night offline loses none of them. Each keeps its `clientId`: however often it is sent
// (from this tab, after a reload, from a second tab), the room stores it once.

import type { ReplyPreview } from '$lib/protocol';

export type OutboxEntry = {
	clientId: string;
	roomId: string;
	userId: string;
	body: string;
	replyTo?: number;
	/** The quote shown with it while it waits. */
	replyPreview?: ReplyPreview;
	createdAt: number;
	/** Why the room refused it; it then waits for the user to retry or discard it. */
	failed?: string;
};

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
		const entries = (await request(store.index('room').getAll(roomId))) as OutboxEntry[];
		return entries.filter((e) => e.userId === userId).sort((a, b) => a.createdAt - b.createdAt);
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
