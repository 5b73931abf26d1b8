// What this browser keeps of a person between visits, and clearing it. The keeping is done in
// `local-store.ts` (IndexedDB, over `idb`, loaded with a room's first connect); what is here needs
// no library, so the layout and the sockets can clear a person's data without loading that.

import type { ConversationSummary } from '$lib/conversations';
import { PAGES_CACHE } from '$lib/pwa';
import type { UserHubConnection } from './user-hub.svelte';

/** The one database a person's data lives in: their name in it keeps each person's apart. */
export function localDbName(userId: string): string {
	return `parley:${userId}`;
}

/**
 * A person's end-to-end encryption database (`e2ee/keystore.ts`): this browser's device keys, its
 * groups and what it decrypted. Cleared with the rest: signing out of a browser forgets its device
 * (docs/e2ee.md), as a shared computer must.
 */
export function e2eeDbName(userId: string): string {
	return `parley-e2ee:${userId}`;
}

/** The outbox's database before each person had their own: emptied into theirs, then deleted. */
export const LEGACY_DB = 'parley';

/** Who this browser last kept data for: their data goes when someone else (or no one) signs in. */
const KEPT_FOR_KEY = 'parley:kept-for';

/** The page cache's entries for one room: its page and its page data. */
function isRoomPage(url: string, roomId: string): boolean {
	const path = new URL(url).pathname;
	return path === `/rooms/${roomId}` || path.startsWith(`/rooms/${roomId}/`);
}

function deleteDatabase(name: string): Promise<void> {
	return new Promise((resolve) => {
		const request = indexedDB.deleteDatabase(name);
		request.onsuccess = () => resolve();
		request.onerror = () => {
			console.warn('local data: could not delete', name, request.error);
			resolve();
		};
		// A tab of an older version holds it open: the deletion goes through once it lets go, and
		// nobody waits for that here.
		request.onblocked = () => resolve();
	});
}

/** The names of every person's database this browser holds (all of them, where it can list them). */
async function databasesOf(userId: string | undefined): Promise<string[]> {
	if (userId) return [localDbName(userId), e2eeDbName(userId)];
	const names = new Set<string>();
	const keptFor = readKeptFor();
	if (keptFor) [localDbName(keptFor), e2eeDbName(keptFor)].forEach((name) => names.add(name));
	if (typeof indexedDB.databases === 'function') {
		const listed = await indexedDB.databases().catch(() => []);
		for (const { name } of listed) {
			if (name?.startsWith(localDbName('')) || name?.startsWith(e2eeDbName(''))) names.add(name);
		}
	}
	return [...names];
}

function readKeptFor(): string | null {
	try {
		return localStorage.getItem(KEPT_FOR_KEY);
	} catch {
		return null;
	}
}

function writeKeptFor(userId: string | null): void {
	try {
		if (userId) localStorage.setItem(KEPT_FOR_KEY, userId);
		else localStorage.removeItem(KEPT_FOR_KEY);
	} catch {
		// Storage refused (a private mode): nothing was kept that would need clearing either.
	}
}

/**
 * Deletes what this browser keeps of a person: their database (every person's, without
 * `userId`), the pages the service worker cached, and the notifications it shows. For signing
 * out and being signed out: on a shared device the next person sees none of it.
 */
export async function clearLocalData(userId?: string): Promise<void> {
	const work: Promise<unknown>[] = [];
	if (typeof indexedDB !== 'undefined') {
		work.push(databasesOf(userId).then((names) => Promise.all(names.map(deleteDatabase))));
	}
	// From the page as well as by the worker: the page does not wait for the worker to wake.
	if (typeof caches !== 'undefined') work.push(caches.delete(PAGES_CACHE).catch(() => false));
	if (typeof navigator !== 'undefined' && 'serviceWorker' in navigator) {
		work.push(
			navigator.serviceWorker
				.getRegistration()
				.then((registration) => registration?.active?.postMessage({ type: 'clear-user-data' }))
				.catch(() => undefined)
		);
	}
	const keptFor = readKeptFor();
	if (!userId || keptFor === userId) writeKeptFor(null);
	await Promise.all(work);
}

/**
 * Deletes the service worker's cached pages of one room, for when access to it is lost. Its
 * messages are deleted by `forgetRoom` in `local-store.ts`.
 */
export async function forgetRoomPages(roomId: string): Promise<void> {
	if (typeof caches === 'undefined') return;
	try {
		const cache = await caches.open(PAGES_CACHE);
		const requests = await cache.keys();
		await Promise.all(
			requests.filter((r) => isRoomPage(r.url, roomId)).map((r) => cache.delete(r))
		);
	} catch (err) {
		console.warn('local data: could not forget the pages of a room', err);
	}
}

/**
 * The layout tells who is signed in (null: no one). Whatever this browser kept for someone else
 * goes first: the page cache may have served their pages, and their database has their messages.
 * Answers once that is done.
 */
export async function signedInAs(userId: string | null): Promise<void> {
	const keptFor = readKeptFor();
	if (keptFor && keptFor !== userId) await clearLocalData(keptFor);
	if (userId && keptFor !== userId) writeKeptFor(userId);
}

/** Membership changes after which the room is no longer the person's to read. */
const ACCESS_LOST = new Set(['removed', 'banned', 'left', 'deleted']);

/**
 * The layout's part: what this browser keeps is the signed-in person's alone (anyone else's goes
 * first), their conversation list is kept (and `onNewer` gets the kept one when it is newer than
 * the page's, as when the page came from the service worker's cache), and a room they lose access
 * to is forgotten. Answers the function that stops listening to the hub.
 */
export function keepLocalData(
	userId: string | null,
	list: { conversations: readonly ConversationSummary[]; listedAt: number },
	hub: Pick<UserHubConnection, 'onFrame'>,
	onNewer: (kept: { conversations: ConversationSummary[]; listedAt: number }) => void
): () => void {
	const store = () => import('./local-store');
	void signedInAs(userId)
		.then(async () => {
			// Unless they were signed out meanwhile: that would make their database again.
			if (!userId || readKeptFor() !== userId) return;
			const m = await store();
			const newer = await m.keepConversations(userId, list.conversations, list.listedAt);
			if (newer) onNewer(newer);
		})
		.catch((err: unknown) => console.warn('local data: could not keep the conversations', err));
	if (!userId) return () => undefined;
	return hub.onFrame((frame) => {
		if (frame.type !== 'membership' || !ACCESS_LOST.has(frame.change)) return;
		void store()
			.then((m) => m.forgetRoom(userId, frame.roomId))
			.catch((err: unknown) => console.warn('local data: could not forget a room', err));
	});
}
