// Search: messages through the full-text index (migration 0011), people and public rooms by name.
//
// The index's rowid is `rooms.search_key * 2^32 + seq`, so a room's messages are one range of it.
// A search walks the ranges of the rooms the person may read now (`readableRooms`, the `read`
// rule in SQL) and nothing else: a common word in thousands of other rooms costs nothing, and
// access is decided inside the statement, never by filtering its results. The statement picks
// the page's rows first and makes snippets for those alone.
//
// Messages reach the index when the room's flush copies them to D1, within `FLUSH_DELAY_MS`
// (250 ms) of their acknowledgement while D1 is healthy; the room's unflushed tail is not merged
// in (that would ask every room in scope on every keystroke). docs/architecture.md, "Search".
import { sql } from 'drizzle-orm';
import * as v from 'valibot';
import type { Db } from '$lib/server/db';
import { readableRooms } from '$lib/server/rooms/authz';
import { searchPeople } from '$lib/server/people/people';
import { listPublicRooms } from '$lib/server/rooms/directory';
import { usernameKey } from '$lib/server/accounts/users';
import { deny, type Done } from '$lib/server/outcome';
import { RateLimits, consumeRateLimits, describeWait } from '$lib/server/rate-limit';
import { rooms, users } from '$shared/db/schema';
import { parseStoredAttachments } from '$shared/protocol';
import {
	isEmptyQuery,
	isQueryProblem,
	parseSearchQuery,
	type ParsedQuery
} from '$lib/search-query';
import {
	cursorAfter,
	messageSearchStatement,
	parseCursor,
	snippetParts,
	type Cursor,
	type SearchSort,
	type SnippetPart
} from './statement';

export { matchExpression, messageSearchStatement, snippetParts, startOfDay } from './statement';
export type { SearchPlan, SearchSort, SnippetPart } from './statement';

export const SEARCH_PAGE_SIZE = 20;
/** People and public rooms shown beside the messages, on the first page. */
const NAME_RESULTS = 5;

export type SearchParams = {
	q: string;
	/** Only this room (it must be readable). */
	roomId?: string | null;
	/** Also public rooms the person has not joined. */
	publicRooms?: boolean;
	sort?: SearchSort;
	cursor?: string | null;
	/** Still typing: the last word matches longer words too. */
	typing?: boolean;
	limit?: number;
};

export type MessageHit = {
	roomId: string;
	/** The room's name; for a direct conversation, the other person's name. */
	roomName: string;
	roomKind: 'direct' | 'group' | 'public';
	/** False for a public room found with `publicRooms` that the person has not joined. */
	joined: boolean;
	seq: number;
	createdAt: number;
	editedAt: number | null;
	author: { id: string; username: string; displayName: string; picture: string | null } | null;
	snippet: SnippetPart[];
	files: string[];
};

export type SearchResults = {
	query: ParsedQuery;
	messages: { items: MessageHit[]; nextCursor: string | null };
	people: { id: string; username: string; displayName: string; picture: string | null }[];
	rooms: {
		id: string;
		name: string;
		picture: string | null;
		memberCount: number;
		joined: boolean;
	}[];
};

/**
 * Messages, people and public rooms for what was typed. Refuses a query that cannot be answered
 * (`bad_input` with a message for people: a bad filter, an unknown person or room, a query that
 * would match nearly everything) and a room the person may not read (`not_found`).
 */
export async function searchEverything(
	db: Db,
	userId: string,
	params: SearchParams
): Promise<Done<SearchResults>> {
	const parsed = parseSearchQuery(params.q, { typing: params.typing });
	if (isQueryProblem(parsed)) return deny(400, 'bad_input', parsed.message);
	const sort = params.sort ?? 'recent';
	const cursor = params.cursor ? parseCursor(params.cursor) : null;
	if (params.cursor && (!cursor || cursor.sort !== sort)) {
		return deny(400, 'bad_input', 'That cursor is not one this search gave.');
	}
	const found = await searchMessages(db, userId, parsed, { ...params, sort, cursor });
	if (!found.ok) return found;

	// Names only on the first page, and only for words: a filter is not a name.
	const words = parsed.terms.map((term) => term.text).join(' ');
	const firstPage = !cursor && words.length > 0 && !params.roomId;
	const [people, publicRooms] = firstPage
		? await Promise.all([
				searchPeople(db, userId, words, NAME_RESULTS),
				listPublicRooms(db, userId, words).then((found) => found.slice(0, NAME_RESULTS))
			])
		: [[], []];
	return {
		ok: true,
		query: parsed,
		messages: found,
		people: people.map(({ id, username, displayName, picture }) => ({
			id,
			username,
			displayName,
			picture
		})),
		rooms: publicRooms.map(({ id, name, picture, memberCount, joined }) => ({
			id,
			name,
			picture,
			memberCount,
			joined
		}))
	};
}

/** A refusal as the endpoint and the page give it; `retryAfter` (seconds) when rate limited. */
export type SearchRefusal = { status: number; code: string; message: string; retryAfter?: number };

const Flag = v.optional(v.picklist(['0', '1'], 'is 1 (or 0)'));

/**
 * A search as a request asks for it, for the endpoint, the search page and the public API alike:
 * `q`, `room` (only that room), `public=1` (also public rooms not joined), `sort`, `cursor` (from
 * the page before), `typing=1` (the last word is still being typed).
 */
export const SearchQuery = v.object({
	q: v.pipe(
		v.optional(v.string(), ''),
		v.description(
			'What to find: words, "phrases", word* prefixes, and from:@user in:room has:file before:/after:/on: filters.'
		)
	),
	room: v.pipe(v.optional(v.string()), v.description('Search only this room (its id).')),
	public: v.pipe(Flag, v.description('1: also public rooms you have not joined.')),
	sort: v.pipe(
		v.optional(v.picklist(['recent', 'best'], 'sort is recent or best.'), 'recent'),
		v.description('recent (newest first, the default) or best (best match first).')
	),
	cursor: v.pipe(v.optional(v.string()), v.description('`nextCursor` of the page before.')),
	typing: v.pipe(
		Flag,
		v.description('1: the last word matches longer words too (search as you type).')
	)
});
export type SearchQuery = v.InferOutput<typeof SearchQuery>;

/** `SearchQuery` read from a URL's parameters, then `searchFor`. */
export async function searchRequest(
	db: Db,
	userId: string,
	params: URLSearchParams
): Promise<{ ok: true; results: SearchResults } | ({ ok: false } & SearchRefusal)> {
	const query = v.safeParse(SearchQuery, Object.fromEntries(params));
	if (!query.success) {
		const issue = query.issues[0];
		return {
			ok: false,
			status: 400,
			code: 'bad_input',
			message: `${v.getDotPath(issue) ?? 'The query'}: ${issue.message}`
		};
	}
	return searchFor(db, userId, query.output);
}

/** A search, counted against the person's rate limit, then run. */
export async function searchFor(
	db: Db,
	userId: string,
	query: SearchQuery
): Promise<{ ok: true; results: SearchResults } | ({ ok: false } & SearchRefusal)> {
	const limited = await consumeRateLimits(db, [[RateLimits.searchPerAccount, userId]]);
	if (!limited.ok) {
		return {
			ok: false,
			status: 429,
			code: 'rate_limited',
			message: `Searching too fast: try again in ${describeWait(limited.retryAfterSeconds)}.`,
			retryAfter: limited.retryAfterSeconds
		};
	}
	const found = await searchEverything(db, userId, {
		q: query.q,
		roomId: query.room || null,
		publicRooms: query.public === '1',
		sort: query.sort,
		cursor: query.cursor ?? null,
		typing: query.typing === '1'
	});
	if (!found.ok) return found;
	const { ok: _ok, ...results } = found;
	return { ok: true, results };
}

type MessageSearch = {
	roomId?: string | null;
	publicRooms?: boolean;
	sort: SearchSort;
	cursor: Cursor | null;
	limit?: number;
};

/** A page of messages for a parsed query, newest first or best match first. */
export async function searchMessages(
	db: Db,
	userId: string,
	query: ParsedQuery,
	options: MessageSearch
): Promise<Done<{ items: MessageHit[]; nextCursor: string | null }>> {
	const none = { ok: true as const, items: [], nextCursor: null };
	if (isEmptyQuery(query)) return none;
	const limit = Math.min(Math.max(options.limit ?? SEARCH_PAGE_SIZE, 1), 50);

	const names = await resolveNames(db, userId, query, options.publicRooms ?? false);
	if (!names.ok) return names;
	if (options.roomId) {
		const [readable] = await db.all<{ ok: number }>(
			sql`select 1 as ok from (${readableRooms(userId, { publicRooms: options.publicRooms })})
				where room_id = ${options.roomId}`
		);
		if (!readable) return deny(404, 'not_found', 'This room does not exist.');
	}
	// `in:` inside one room: that room, if it is one of those named.
	if (options.roomId && names.roomIds.length > 0 && !names.roomIds.includes(options.roomId)) {
		return none;
	}
	const roomIds = options.roomId ? [options.roomId] : names.roomIds;

	// Days are the person's own, as the timeline shows them.
	const timeZone = query.after || query.before ? await timeZoneOf(db, userId) : 'UTC';
	const rows = await db.all<HitRow>(
		messageSearchStatement(userId, query, {
			authorIds: names.authorIds,
			roomIds,
			publicRooms: options.publicRooms ?? false,
			sort: options.sort,
			cursor: options.cursor,
			limit,
			timeZone
		})
	);

	const page = rows.slice(0, limit);
	const last = page.at(-1);
	return {
		ok: true,
		items: page.map(toHit),
		nextCursor: rows.length > limit && last ? cursorAfter(options.sort, last) : null
	};
}

type HitRow = {
	roomId: string;
	joined: number;
	roomKey: number;
	score: number;
	seq: number;
	createdAt: number;
	editedAt: number | null;
	attachments: string | null;
	snippet: string;
	roomKind: 'direct' | 'group' | 'public';
	roomName: string;
	authorId: string | null;
	authorUsername: string | null;
	authorName: string | null;
	authorPicture: string | null;
};

function toHit(row: HitRow): MessageHit {
	return {
		roomId: row.roomId,
		roomName: row.roomName,
		roomKind: row.roomKind,
		joined: Boolean(row.joined),
		seq: row.seq,
		createdAt: row.createdAt,
		editedAt: row.editedAt,
		author:
			row.authorId && row.authorUsername && row.authorName
				? {
						id: row.authorId,
						username: row.authorUsername,
						displayName: row.authorName,
						picture: row.authorPicture
					}
				: null,
		snippet: snippetParts(row.snippet),
		files: (parseStoredAttachments(row.attachments) ?? []).map((file) => file.name)
	};
}

/** `from:` usernames to ids and `in:` names to the person's rooms, or what could not be found. */
async function resolveNames(
	db: Db,
	userId: string,
	query: ParsedQuery,
	publicRooms: boolean
): Promise<Done<{ authorIds: string[]; roomIds: string[] }>> {
	const authorIds: string[] = [];
	for (const name of query.from) {
		const [person] = await db.all<{ id: string }>(
			sql`select ${users.id} as id from ${users} where ${users.usernameKey} = ${usernameKey(name)}`
		);
		if (!person) return deny(400, 'bad_input', `No one is called @${name}.`);
		authorIds.push(person.id);
	}
	const roomIds: string[] = [];
	for (const name of query.in) {
		const found = await db.all<{ id: string }>(
			sql`select s.room_id as id from (${readableRooms(userId, { publicRooms })}) s
				join ${rooms} r on r.id = s.room_id where lower(r.name) = ${name}`
		);
		if (found.length === 0)
			return deny(400, 'bad_input', `None of your conversations is #${name}.`);
		roomIds.push(...found.map((room) => room.id));
	}
	return { ok: true, authorIds, roomIds };
}

async function timeZoneOf(db: Db, userId: string): Promise<string> {
	const [row] = await db.all<{ timeZone: string }>(
		sql`select ${users.timeZone} as timeZone from ${users} where ${users.id} = ${userId}`
	);
	return row?.timeZone ?? 'UTC';
}
