// The one IndexedDB database of each person (`parley:<userId>`): the outbox of unsent messages,
// the conversation list as last loaded, and the newest messages of the rooms opened most recently,
// so that a room opens at once (and with no network) while its socket catches up behind. Loaded
// with a room's first connect, never in a page's first load. Everything read back is checked: it
// may have been written by another version of the app, or by hand in the devtools.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import * as v from 'valibot';
import { ChatMessage } from '$shared/protocol';
import type { ConversationSummary } from '$lib/conversations';
import { LEGACY_DB, forgetRoomPages, localDbName } from './local-data';

/** The rooms whose messages are kept: those opened most recently. */
export const KEEP_ROOMS = 20;

const DB_VERSION = 1;

/** A room's messages as a tab last had them, and the revision every change up to reached it. */
export type CachedRoom = { messages: ChatMessage[]; rev: number };

type RoomEntry = { roomId: string; openedAt: number; rev: number };
type KeptList = { id: 'list'; listedAt: number; conversations: unknown };

/** What is checked of a kept conversation row before the sidebar shows it. */
const KeptConversations = v.array(
	v.looseObject({
		id: v.string(),
		name: v.string(),
		kind: v.picklist(['direct', 'group', 'public']),
		activeAt: v.number(),
		unread: v.number(),
		lastMessageSeq: v.number(),
		notify: v.picklist(['all', 'mentions', 'mute'])
	})
);
type MessageEntry = { roomId: string; seq: number; message: unknown };

interface LocalDb extends DBSchema {
	/** Unsent messages by `clientId` (see `outbox.ts`). */
	outbox: { key: string; value: unknown; indexes: { room: string } };
	/** The sidebar's list as last loaded, one entry (`id: 'list'`), with when the server made it. */
	conversations: { key: string; value: KeptList };
	messages: { key: [string, number]; value: MessageEntry };
	rooms: { key: string; value: RoomEntry; indexes: { openedAt: number } };
}

export type LocalDatabase = IDBPDatabase<LocalDb>;

const RoomEntrySchema = v.object({
	roomId: v.string(),
	openedAt: v.pipe(v.number(), v.finite()),
	rev: v.pipe(v.number(), v.integer(), v.minValue(0))
});

/** One connection per person and tab, shared by the outbox and the rooms. */
const open = new Map<string, Promise<LocalDatabase | null>>();

/**
 * The person's database, or null where there is no IndexedDB (some private modes): what it
 * keeps then lives as long as the tab. An outbox left in the database of before is moved in.
 */
export function openLocalStore(userId: string): Promise<LocalDatabase | null> {
	let db = open.get(userId);
	if (!db) {
		db = connect(userId);
		open.set(userId, db);
	}
	return db;
}

async function connect(userId: string): Promise<LocalDatabase | null> {
	if (typeof indexedDB === 'undefined') return null;
	try {
		const db = await openDB<LocalDb>(localDbName(userId), DB_VERSION, {
			upgrade(db) {
				db.createObjectStore('outbox', { keyPath: 'clientId' }).createIndex('room', 'roomId');
				db.createObjectStore('conversations', { keyPath: 'id' });
				db.createObjectStore('messages', { keyPath: ['roomId', 'seq'] });
				db.createObjectStore('rooms', { keyPath: 'roomId' }).createIndex('openedAt', 'openedAt');
			},
			// Signing out (here or in another tab) deletes the database: let it go at once.
			blocking() {
				open.delete(userId);
				db.close();
			},
			terminated() {
				open.delete(userId);
			}
		});
		await moveLegacyOutbox(db, userId).catch((err: unknown) =>
			console.warn('local store: could not move the unsent messages of before', err)
		);
		return db;
	} catch (err) {
		open.delete(userId);
		console.warn('local store: IndexedDB unavailable, keeping data in memory', err);
		return null;
	}
}

/**
 * Moves this person's unsent messages from the outbox's database of before (one for everyone)
 * into theirs; it is deleted once no one's are left. Each is written before it is deleted there:
 * kept twice for a moment is harmless (sent once by its `clientId`), lost is not.
 */
async function moveLegacyOutbox(db: LocalDatabase, userId: string): Promise<void> {
	if (typeof indexedDB.databases === 'function') {
		const names = await indexedDB.databases();
		if (!names.some((d) => d.name === LEGACY_DB)) return;
	}
	const legacy = await openDB(LEGACY_DB);
	let emptied = true;
	try {
		if (!legacy.objectStoreNames.contains('outbox')) return;
		const entries = (await legacy.getAll('outbox')) as unknown[];
		const mine = entries.filter(
			(e): e is { clientId: string } =>
				typeof e === 'object' &&
				e !== null &&
				(e as { userId?: unknown }).userId === userId &&
				typeof (e as { clientId?: unknown }).clientId === 'string'
		);
		for (const entry of mine) await db.put('outbox', entry);
		const tx = legacy.transaction('outbox', 'readwrite');
		await Promise.all([...mine.map((e) => tx.store.delete(e.clientId)), tx.done]);
		emptied = mine.length === entries.length;
	} finally {
		legacy.close();
		// Others' unsent messages wait there for them to open the app.
		if (emptied) indexedDB.deleteDatabase(LEGACY_DB);
	}
}

// ---- what to keep (no IndexedDB here: unit-tested in workerd) ----

/** The rooms whose messages go: all but the `keep` opened most recently. */
export function roomsToDrop(
	rooms: readonly { roomId: string; openedAt: number }[],
	keep = KEEP_ROOMS
): string[] {
	return [...rooms]
		.sort((a, b) => b.openedAt - a.openedAt)
		.slice(keep)
		.map((r) => r.roomId);
}

/**
 * The well-formed messages of what was stored for a room, oldest first; a bad one is skipped
 * (and logged), and so is any message not of `roomId`.
 */
export function parseCachedMessages(roomId: string, stored: readonly unknown[]): ChatMessage[] {
	const messages: ChatMessage[] = [];
	for (const item of stored) {
		const entry = item as Partial<MessageEntry> | null;
		const parsed = v.safeParse(ChatMessage, entry?.message);
		if (entry?.roomId === roomId && parsed.success && parsed.output.seq === entry.seq) {
			messages.push(parsed.output);
		} else console.warn('local store: skipping an unreadable message');
	}
	return messages.sort((a, b) => a.seq - b.seq);
}

// ---- reading and writing ----

function roomRange(roomId: string): IDBKeyRange {
	return IDBKeyRange.bound([roomId, -Infinity], [roomId, Infinity]);
}

/** The room is opened: it counts among the most recent, and rooms past `KEEP_ROOMS` go. */
export async function openRoom(
	db: LocalDatabase,
	roomId: string,
	now = Date.now()
): Promise<CachedRoom | null> {
	const tx = db.transaction(['rooms', 'messages'], 'readwrite');
	const rooms = tx.objectStore('rooms');
	const messages = tx.objectStore('messages');
	const entry = v.safeParse(RoomEntrySchema, await rooms.get(roomId));
	const stored = entry.success ? await messages.getAll(roomRange(roomId)) : [];
	await rooms.put({ roomId, openedAt: now, rev: entry.success ? entry.output.rev : 0 });
	const opened = (await rooms.getAll()).filter((r) => v.is(RoomEntrySchema, r));
	for (const gone of roomsToDrop(opened)) {
		await messages.delete(roomRange(gone));
		await rooms.delete(gone);
	}
	await tx.done;
	if (!entry.success) return null;
	return { messages: parseCachedMessages(roomId, stored), rev: entry.output.rev };
}

/** Replaces what is kept of a room with `kept`, which holds every change up to `rev`. */
export async function saveRoom(
	db: LocalDatabase,
	roomId: string,
	kept: readonly ChatMessage[],
	rev: number
): Promise<void> {
	const tx = db.transaction(['rooms', 'messages'], 'readwrite');
	const previous = v.safeParse(RoomEntrySchema, await tx.objectStore('rooms').get(roomId));
	const messages = tx.objectStore('messages');
	await messages.delete(roomRange(roomId));
	for (const message of kept) await messages.put({ roomId, seq: message.seq, message });
	await tx
		.objectStore('rooms')
		.put({ roomId, openedAt: previous.success ? previous.output.openedAt : Date.now(), rev });
	await tx.done;
}

/** Access to a room was lost: nothing of it stays, its cached pages included. */
export async function forgetRoom(userId: string, roomId: string): Promise<void> {
	const pages = forgetRoomPages(roomId);
	const db = await openLocalStore(userId);
	if (db) {
		const tx = db.transaction(['rooms', 'messages'], 'readwrite');
		await Promise.all([
			tx.objectStore('messages').delete(roomRange(roomId)),
			tx.objectStore('rooms').delete(roomId),
			tx.done
		]);
	}
	await pages;
}

/**
 * The sidebar's list as the server made it at `listedAt` (the layout's data), kept unless the one
 * kept is newer. Answers the kept list when it is newer than the page's: a page the service worker
 * answered from its cache (the network down) carries the list of the day it was cached.
 */
export async function keepConversations(
	userId: string,
	conversations: readonly ConversationSummary[],
	listedAt: number
): Promise<{ conversations: ConversationSummary[]; listedAt: number } | null> {
	const db = await openLocalStore(userId);
	if (!db) return null;
	const kept = await db.get('conversations', 'list');
	if (kept && kept.listedAt > listedAt) {
		const parsed = v.safeParse(KeptConversations, kept.conversations);
		const conversations = parsed.output as unknown as ConversationSummary[];
		if (parsed.success) return { conversations, listedAt: kept.listedAt };
	}
	await db.put('conversations', { id: 'list', listedAt, conversations: plain(conversations) });
	return null;
}

/** A plain copy IndexedDB can store (Svelte hands out proxies of its state). */
function plain<T>(value: T): T {
	return JSON.parse(JSON.stringify(value)) as T;
}
