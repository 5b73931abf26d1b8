// The statement of a message search and what it reads and writes: the index's keys, the MATCH
// expression built from a parsed query, snippets, cursors and days. `index.ts` runs it.
import { sql, type SQL } from 'drizzle-orm';
import { readableRooms } from '$lib/server/rooms/authz';
import { pictureUrlColumn } from '$lib/server/files/picture-url';
import { messages, rooms, users } from '$shared/db/schema';
import { isStopWord, type ParsedQuery, type SearchTerm } from '$lib/search-query';

export type SearchSort = 'recent' | 'best';

export type SnippetPart = { text: string; match: boolean };

/** A room's entries in the index: `search_key * ROOM_SPAN + seq`. */
const ROOM_SPAN = 4294967296;
/** The same, written into statements as literals: a bound number may arrive as a float. */
const SPAN = sql.raw(String(ROOM_SPAN));
const SEQ_MASK = sql.raw(String(ROOM_SPAN - 1));
/** Marks snippet() puts around matched words; never in stored text the way they are used here. */
const MATCH_START = '\u0002';
const MATCH_END = '\u0003';

/**
 * Where a page ended: its last row's time (or score) and index entry. The entry travels as the
 * room's search key and the seq, each well within a JavaScript number (the entry is not).
 */
export type Cursor = { at: number; room: number; seq: number } & (
	{ sort: 'recent' } | { sort: 'best'; score: number }
);

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

/** The cursor of the page after the one ending at this row (`parseCursor` reads it). */
export function cursorAfter(
	sort: SearchSort,
	row: { score: number; createdAt: number; roomKey: number; seq: number }
): string {
	return [sort === 'best' ? `b.${row.score}` : 'r', row.createdAt, row.roomKey, row.seq].join('.');
}

export function parseCursor(text: string): Cursor | null {
	const found =
		/^(?:r|b\.(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?))\.(\d{1,15})\.(\d{1,15})\.(\d{1,10})$/.exec(text);
	if (!found) return null;
	const [, score, at, room, seq] = found;
	const position = { at: Number(at), room: Number(room), seq: Number(seq) };
	return score === undefined
		? { sort: 'recent', ...position }
		: { sort: 'best', score: Number(score), ...position };
}
