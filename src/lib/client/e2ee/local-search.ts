// Search in end-to-end encrypted conversations. Their words never reach the server's index
// (docs/e2ee.md), so this browser's device searches the text it decrypted (`E2eeStore.search`),
// and what it finds joins the server's results, marked as found on this device. The store, and
// the MLS code with it, is loaded only for a person who has a device in this browser.
import * as v from 'valibot';
import type { ConversationSummary } from '$lib/conversations';
import type { ParsedQuery } from '$lib/search-query';
import type { MessageHit, SearchSort } from '$lib/ui/search';
import { e2eeDbName } from '../local-data';
import type { E2eeStore, SearchHit } from './keystore';

/** A found message; `local`: in this browser's decrypted text, not from the server's index. */
export type FoundMessage = MessageHit & { local?: true };

type Author = NonNullable<MessageHit['author']>;

/** How many of this device's hits one search reads: the search page shows them all. */
const LOCAL_LIMIT = 50;
/** Longer texts are shown from a little before their first match. */
const SNIPPET_LENGTH = 240;
const SNIPPET_LEAD = 60;

/**
 * The server's hits and this device's in one list. Newest first, a local hit is shown once the
 * server's pages reach back to its time (else it would jump ahead of a page not loaded yet); by
 * best match, local hits (which have no rank) follow the server's last page.
 */
export function mergeHits(
	server: readonly FoundMessage[],
	local: readonly FoundMessage[],
	{ more, sort = 'recent' }: { more: boolean; sort?: SearchSort }
): FoundMessage[] {
	if (sort === 'best') return more ? [...server] : [...server, ...local];
	const oldest = server.at(-1)?.createdAt;
	const shown = more
		? local.filter((hit) => oldest !== undefined && hit.createdAt >= oldest)
		: local;
	return [...server, ...shown].sort((a, b) => b.createdAt - a.createdAt);
}

/** Only words can be found here: filters name what the server knows (people, files, days). */
function wordsOf(query: ParsedQuery): string | null {
	const { from, has, before, after } = query;
	if (from.length + query.in.length + has.length > 0 || before || after) return null;
	return query.terms.map((term) => term.text).join(' ') || null;
}

export class LocalSearch {
	readonly #store: E2eeStore;
	readonly #fold: (text: string) => string[];
	readonly #me: Author;
	/** Each group's members, asked once, to name whoever wrote what was found. */
	readonly #members = new Map<string, Promise<Map<string, Author> | null>>();

	private constructor(store: E2eeStore, fold: (text: string) => string[], me: Author) {
		this.#store = store;
		this.#fold = fold;
		this.#me = me;
	}

	/** The person's search of this browser's decrypted text; null when it has no device here. */
	static async open(me: Author): Promise<LocalSearch | null> {
		if (typeof indexedDB === 'undefined') return null;
		// Most people have no device here: say so without loading the store (and the MLS code with
		// it) or making its database. A browser that cannot list its databases looks anyway.
		if (typeof indexedDB.databases === 'function') {
			const listed = await indexedDB.databases().catch(() => null);
			if (listed && !listed.some((db) => db.name === e2eeDbName(me.id))) return null;
		}
		try {
			const { E2eeStore, searchWords } = await import('./keystore');
			const store = await E2eeStore.open(me.id);
			if (!(await store.loadDevice())) return null;
			const { id, username, displayName, picture } = me;
			return new LocalSearch(store, searchWords, { id, username, displayName, picture });
		} catch (error) {
			console.warn('local search: this browser’s store could not be opened', error);
			return null;
		}
	}

	/**
	 * Messages of the person's conversations (`rooms`, the sidebar's) that this device decrypted
	 * and that have every word of the query, newest first; none for a query with filters.
	 */
	async search(
		query: ParsedQuery,
		rooms: readonly ConversationSummary[],
		scope: string | null = null
	): Promise<FoundMessage[]> {
		const text = wordsOf(query);
		if (text === null) return [];
		const words = this.#fold(text);
		const byId = new Map(rooms.map((room) => [room.id, room]));
		let hits: SearchHit[];
		try {
			hits = await this.#store.search(text, LOCAL_LIMIT);
		} catch (error) {
			console.warn('local search: the store could not be searched', error);
			return [];
		}
		const found: FoundMessage[] = [];
		for (const hit of hits) {
			const room = byId.get(hit.roomId);
			// A room left since: its text is on its way out of the store.
			if (!room || (scope !== null && hit.roomId !== scope)) continue;
			found.push({
				roomId: hit.roomId,
				roomName: room.name,
				roomKind: room.kind,
				joined: true,
				seq: hit.seq,
				createdAt: hit.createdAt,
				editedAt: null,
				author: await this.#author(room, hit.senderId),
				snippet: this.#snippet(hit.body, words),
				files: [],
				local: true
			});
		}
		return found;
	}

	async #author(room: ConversationSummary, userId: string): Promise<Author | null> {
		if (userId === this.#me.id) return this.#me;
		if (room.peer?.id === userId) return { ...room.peer, picture: room.picture ?? null };
		let asked = this.#members.get(room.id);
		if (!asked) {
			asked = membersOf(room.id);
			this.#members.set(room.id, asked);
		}
		const members = await asked;
		// Not answered: asked again by the next search.
		if (members === null) this.#members.delete(room.id);
		return members?.get(userId) ?? null;
	}

	/** The text with the words that start with a word of the query marked, as the index marks. */
	#snippet(body: string, words: readonly string[]): MessageHit['snippet'] {
		const parts = body
			.split(/([\p{L}\p{N}]+)/u)
			.filter((text) => text !== '')
			.map((text) => {
				const folded = this.#fold(text)[0];
				return { text, match: folded !== undefined && words.some((w) => folded.startsWith(w)) };
			});
		const first = parts.findIndex((part) => part.match);
		const before = parts.slice(0, Math.max(first, 0)).reduce((n, part) => n + part.text.length, 0);
		if (body.length <= SNIPPET_LENGTH || before <= SNIPPET_LEAD) return parts;
		// Cut at a part's start, so no word is shown halved.
		let dropped = 0;
		while (before - dropped - (parts[0]?.text.length ?? 0) >= SNIPPET_LEAD) {
			dropped += parts.shift()!.text.length;
		}
		return [{ text: '…', match: false }, ...parts];
	}
}

const MemberPage = v.object({
	members: v.array(v.object({ id: v.string(), username: v.string(), displayName: v.string() }))
});

/** A group's members by id (the API's first page holds them all: encrypted rooms are small). */
async function membersOf(roomId: string): Promise<Map<string, Author> | null> {
	const response = await fetch(`/api/v1/rooms/${roomId}/members?limit=100`, {
		headers: { accept: 'application/json' }
	}).catch(() => null);
	const page = v.safeParse(
		MemberPage,
		response?.ok ? await response.json().catch(() => null) : null
	);
	if (!page.success) return null;
	return new Map(
		page.output.members.map(({ id, username, displayName }) => [
			id,
			{ id, username, displayName, picture: null }
		])
	);
}
