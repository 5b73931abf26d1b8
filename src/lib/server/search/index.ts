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
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '$lib/server/db';
import { readableRooms } from '$lib/server/rooms/authz';
import { searchPeople } from '$lib/server/people/people';
import { listPublicRooms } from '$lib/server/rooms/directory';
import { usernameKey } from '$lib/server/accounts/users';
import { pictureUrlColumn } from '$lib/server/files/picture-url';
import { deny, type Done } from '$lib/server/outcome';
import { RateLimits, consumeRateLimits, describeWait } from '$lib/server/rate-limit';
import { messages, rooms, users } from '$shared/db/schema';
import { parseStoredAttachments } from '$shared/protocol';
import {
	isEmptyQuery,
	isQueryProblem,
	isStopWord,
	parseSearchQuery,
	type ParsedQuery,
	type SearchTerm
} from '$lib/search-query';

export const SEARCH_PAGE_SIZE = 20;
/** People and public rooms shown beside the messages, on the first page. */
const NAME_RESULTS = 5;
/** A room's entries in the index: `search_key * ROOM_SPAN + seq`. */
const ROOM_SPAN = 4294967296;
/** The same, written into statements as literals: a bound number may arrive as a float. */
const SPAN = sql.raw(String(ROOM_SPAN));
const SEQ_MASK = sql.raw(String(ROOM_SPAN - 1));
/** Marks snippet() puts around matched words; never in stored text the way they are used here. */
const MATCH_START = '\u0002';
const MATCH_END = '\u0003';

export type SearchSort = 'recent' | 'best';

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

export type SnippetPart = { text: string; match: boolean };

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
 * Where a page ended: its last row's time (or score) and index entry. The entry travels as the
 * room's search key and the seq, each well within a JavaScript number (the entry is not).
 */
type Cursor = { at: number; room: number; seq: number } & (
	{ sort: 'recent' } | { sort: 'best'; score: number }
);

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

/**
 * A search as a request asks for it (`q`, `room`, `public=1`, `sort`, `cursor`, `typing=1`), for
 * the endpoint and the search page alike: counted against the person's rate limit, then run.
 */
export async function searchRequest(
	db: Db,
	userId: string,
	params: URLSearchParams
): Promise<{ ok: true; results: SearchResults } | ({ ok: false } & SearchRefusal)> {
	const sort = params.get('sort') ?? 'recent';
	if (sort !== 'recent' && sort !== 'best') {
		return { ok: false, status: 400, code: 'bad_input', message: 'sort is recent or best.' };
	}
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
		q: params.get('q') ?? '',
		roomId: params.get('room') || null,
		publicRooms: params.get('public') === '1',
		sort,
		cursor: params.get('cursor'),
		typing: params.get('typing') === '1'
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
		nextCursor:
			rows.length > limit && last
				? [
						options.sort === 'best' ? `b.${last.score}` : 'r',
						last.createdAt,
						last.roomKey,
						last.seq
					].join('.')
				: null
	};
}

export type SearchPlan = {
	authorIds: string[];
	/** Only these rooms, of those readable (none: all of them). */
	roomIds: string[];
	publicRooms: boolean;
	sort: SearchSort;
	cursor: Cursor | null;
	limit: number;
	timeZone: string;
};

/**
 * The one statement of a message search, `limit + 1` rows. Two steps: `hits` finds the page,
 * walking the index range of each room in scope (the CROSS JOINs keep the scope the outer loop
 * and the index the inner one), then snippets are made for the page's rows alone.
 */
export function messageSearchStatement(userId: string, query: ParsedQuery, plan: SearchPlan): SQL {
	const { roomIds, cursor, limit, timeZone } = plan;
	const match = matchExpression(query, plan.authorIds);
	const best = plan.sort === 'best';
	// Conditions on a match `f` and its message `m` (time is the message's, not the index's).
	const conditions: SQL[] = [];
	if (query.after) conditions.push(sql`m.created_at >= ${startOfDay(query.after, timeZone)}`);
	if (query.before) conditions.push(sql`m.created_at < ${startOfDay(query.before, timeZone)}`);
	if (cursor) {
		const key = sql`(cast(${cursor.room} as integer) * ${SPAN} + cast(${cursor.seq} as integer))`;
		conditions.push(
			cursor.sort === 'recent'
				? sql`(m.created_at, f.rowid) < (${cursor.at}, ${key})`
				: sql`(bm25(message_search, 10.0, 5.0, 0.0) > ${cursor.score}
					or (bm25(message_search, 10.0, 5.0, 0.0) = ${cursor.score} and f.rowid < ${key}))`
		);
	}
	const filters = conditions.length > 0 ? sql.join([sql``, ...conditions], sql` and `) : sql``;
	const only =
		roomIds.length > 0
			? sql`where room_id in (${sql.join(
					roomIds.map((id) => sql`${id}`),
					sql`, `
				)})`
			: sql``;
	const directName = sql`(select ${users.displayName} from ${users}
		where ${users.id} = replace(replace(r.direct_key, ${userId} || ':', ''), ':' || ${userId}, ''))`;

	const byTime = query.after !== null || query.before !== null;
	const hits = best
		? // Best first: every match in scope is scored (a ranking has to see them all); the message
			// row is read only when days are asked for.
			sql`select s.room_id as room_id, s.joined as joined, f.rowid as key,
			       bm25(message_search, 10.0, 5.0, 0.0) as score
			  from scope s cross join message_search f ${byTime ? sql`cross join ${messages} m` : sql``}
			 where f.rowid between s.lo and s.hi and message_search match ${match}
			   ${byTime ? sql`and m.room_id = s.room_id and m.seq = (f.rowid & ${SEQ_MASK})` : sql``}
			   ${filters}
			 order by score asc, key desc
			 limit ${limit + 1}`
		: // Newest first: in a room, index order is time order, so each room gives its newest
			// `limit + 1` matches at most (the index read backwards from the top of the room's
			// range, stopping there), and only those are sorted across rooms.
			sql`select s.room_id as room_id, s.joined as joined, s.lo + hit.seq as key, 0 as score
			  from scope s cross join ${messages} hit
			 where hit.room_id = s.room_id and hit.seq in (
			       select f.rowid & ${SEQ_MASK}
			         from message_search f cross join ${messages} m
			        where f.rowid between s.lo and s.hi and message_search match ${match}
			          and m.room_id = s.room_id and m.seq = (f.rowid & ${SEQ_MASK}) ${filters}
			        order by f.rowid desc
			        limit ${limit + 1})
			 order by hit.created_at desc, key desc
			 limit ${limit + 1}`;
	const pageOrder = best ? sql`h.score asc, h.key desc` : sql`m.created_at desc, h.key desc`;

	return sql`
		with scope as (
			select room_id, joined, search_key * ${SPAN} as lo, search_key * ${SPAN} + ${SEQ_MASK} as hi
			  from (${readableRooms(userId, { publicRooms: plan.publicRooms })}) ${only}
		),
		hits as (${hits})
		select h.room_id as roomId, h.joined as joined, h.key >> 32 as roomKey, h.score as score,
		       m.seq as seq, m.created_at as createdAt, m.edited_at as editedAt,
		       m.attachments as attachments,
		       snippet(message_search, -1, ${MATCH_START}, ${MATCH_END}, '…', 16) as snippet,
		       r.kind as roomKind,
		       case when r.kind = 'direct' then coalesce(${directName}, '') else r.name end as roomName,
		       u.id as authorId, u.username as authorUsername, u.display_name as authorName,
		       ${pictureUrlColumn(sql`u.avatar_key`)} as authorPicture
		  from hits h
		  cross join message_search
		  join ${messages} m on m.room_id = h.room_id and m.seq = (h.key & ${SEQ_MASK})
		  join ${rooms} r on r.id = h.room_id
		  left join ${users} u on u.id = m.sender_id and u.deleted_at is null
		 where message_search match ${match} and message_search.rowid = h.key
		 order by ${pageOrder}`;
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

/** snippet()'s text with its marks, as parts: the page shows them without handling any HTML. */
export function snippetParts(text: string): SnippetPart[] {
	const parts: SnippetPart[] = [];
	for (const [index, piece] of text.split(MATCH_START).entries()) {
		const [matched, rest] = index === 0 ? [null, piece] : splitOnce(piece, MATCH_END);
		if (matched) parts.push({ text: matched, match: true });
		if (rest) parts.push({ text: rest, match: false });
	}
	return parts;
}

function splitOnce(text: string, mark: string): [string, string] {
	const at = text.indexOf(mark);
	return at === -1 ? [text, ''] : [text.slice(0, at), text.slice(at + mark.length)];
}

/**
 * The index's query for what was typed: the words in the text and file names, the filters as the
 * words `message_search_source` gives each message (`from<id>`, `has<kind>`). Every term is a
 * quoted string, so nothing typed is read as the index's syntax. Common words are left out when
 * others remain (they would match nearly every message and narrow nothing).
 */
export function matchExpression(query: ParsedQuery, authorIds: string[]): string {
	const specific = query.terms.filter((term) => term.kind === 'phrase' || !isStopWord(term.text));
	const terms = specific.length > 0 ? specific : query.terms;
	const parts: string[] = [];
	if (terms.length > 0) parts.push(`{body files} : (${terms.map(termExpression).join(' AND ')})`);
	if (authorIds.length > 0) {
		parts.push(`tags : (${authorIds.map((id) => quote(`from${id}`)).join(' OR ')})`);
	}
	for (const has of query.has) parts.push(`tags : ${quote(`has${has}`)}`);
	return parts.join(' AND ');
}

function termExpression(term: SearchTerm): string {
	return term.kind === 'word' && term.prefix ? `${quote(term.text)} *` : quote(term.text);
}

function quote(text: string): string {
	return `"${text.replaceAll('"', '""')}"`;
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

/** The first moment of a day (YYYY-MM-DD) in a time zone, as ms since the epoch. */
export function startOfDay(day: string, timeZone: string): number {
	const utc = Date.parse(`${day}T00:00:00Z`);
	// The zone's offset at that moment, from how it writes the UTC midnight; twice, for a day
	// whose midnight is on the other side of a change of offset.
	let at = utc;
	for (let i = 0; i < 2; i++) at = utc - offsetAt(at, timeZone);
	return at;
}

function offsetAt(at: number, timeZone: string): number {
	let parts: Intl.DateTimeFormatPart[];
	try {
		parts = new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit'
		}).formatToParts(new Date(at));
	} catch {
		return 0;
	}
	const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
	const local = Date.UTC(
		get('year'),
		get('month') - 1,
		get('day'),
		get('hour'),
		get('minute'),
		get('second')
	);
	return local - Math.floor(at / 1000) * 1000;
}

function parseCursor(text: string): Cursor | null {
	const found =
		/^(?:r|b\.(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?))\.(\d{1,15})\.(\d{1,15})\.(\d{1,10})$/.exec(text);
	if (!found) return null;
	const [, score, at, room, seq] = found;
	const position = { at: Number(at), room: Number(room), seq: Number(seq) };
	return score === undefined
		? { sort: 'recent', ...position }
		: { sort: 'best', score: Number(score), ...position };
}
