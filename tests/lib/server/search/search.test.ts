// Message search against the local D1 with the project's migrations: what is found (words,
// phrases, prefixes, filters, ranking, snippets, any script), that edits and deletions are seen,
// that only rooms readable now are searched, and that the statement walks indexes only.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { blocks, memberships, roomBans, rooms, users } from '$shared/db/schema';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { decideRoom, loadRoomAccess, readableRooms } from '$lib/server/rooms/authz';
import {
	messageSearchStatement,
	searchEverything,
	searchRequest,
	snippetParts,
	startOfDay,
	type SearchParams
} from '$lib/server/search';
import { parseSearchQuery, type ParsedQuery } from '$lib/search-query';
import { flushToD1, type FlushRow } from '../../../../workers/realtime/src/flush';
import { db, seedUser, type Person } from '../../../helpers';

const DAY = 86_400_000;
let clock = Date.parse('2026-11-01T12:00:00Z');
const seqs = new Map<string, number>();

type Post = Partial<Pick<FlushRow, 'attachments' | 'createdAt' | 'kind'>> & { by: Person };

/** Stores messages as the room's flush does (the same function), one after another in time. */
async function post(roomId: string, body: string, { by, ...rest }: Post): Promise<number> {
	const seq = (seqs.get(roomId) ?? 0) + 1;
	seqs.set(roomId, seq);
	clock += 1000;
	await flushToD1(env.DB, roomId, [row(seq, body, by.id, { createdAt: clock, ...rest })], [], null);
	return seq;
}

function row(seq: number, body: string, senderId: string, extra: Partial<FlushRow> = {}): FlushRow {
	return {
		seq,
		version: 1,
		isNew: true,
		repliedTo: null,
		clientId: `c${seq}-${Math.random()}`,
		senderId,
		kind: 'text',
		body,
		replyToSeq: null,
		mentions: '[]',
		reactions: '{}',
		createdAt: clock,
		editedAt: null,
		deletedAt: null,
		deletedBy: null,
		expired: false,
		attachments: null,
		...extra
	};
}

/** Rewrites a stored message as the flush does for an edit or a deletion. */
async function rewrite(
	roomId: string,
	seq: number,
	body: string,
	by: Person,
	extra: Partial<FlushRow>
) {
	const [stored] = await db().all<{ client_id: string; created_at: number }>(
		sql`select client_id, created_at from messages where room_id = ${roomId} and seq = ${seq}`
	);
	await flushToD1(
		env.DB,
		roomId,
		[
			row(seq, body, by.id, {
				clientId: stored!.client_id,
				createdAt: stored!.created_at,
				...extra
			})
		],
		[],
		null
	);
}

async function group(owner: Person, ...members: Person[]): Promise<string> {
	const room = await createRoom(db(), {
		kind: 'group',
		name: `Group ${Math.random()}`,
		createdBy: owner.id
	});
	for (const member of members) await grantMembership(db(), room.id, member.id);
	return room.id;
}

async function find(person: Person, q: string, params: Omit<SearchParams, 'q'> = {}) {
	const found = await searchEverything(db(), person.id, { q, ...params });
	if (!found.ok) throw new Error(`${found.code}: ${found.message}`);
	return found;
}

/** The seqs found, in the order given. */
async function seqsFor(person: Person, q: string, params: Omit<SearchParams, 'q'> = {}) {
	return (await find(person, q, params)).messages.items.map((hit) => hit.seq);
}

/** Lets anyone start a direct conversation with them. */
async function openToMessages(...people: Person[]) {
	await db()
		.update(users)
		.set({ dmPolicy: 'everyone' })
		.where(
			inArray(
				users.id,
				people.map((p) => p.id)
			)
		);
}

/** A unique word, so that tests sharing the database never find each other's messages. */
function word(): string {
	return `w${Math.random().toString(36).slice(2, 10)}`;
}

describe('what is found', () => {
	it('finds words, phrases and prefixes, newest first, with the words marked in a snippet', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		const s1 = await post(room, `the ${w} meeting moved to Tuesday`, { by: ana });
		const s2 = await post(room, `Tuesday ${w} standup`, { by: ana });
		await post(room, 'nothing to see here', { by: ana });

		expect(await seqsFor(ana, w)).toEqual([s2, s1]);
		expect(await seqsFor(ana, `"${w} meeting"`)).toEqual([s1]);
		expect(await seqsFor(ana, `"meeting ${w}"`)).toEqual([]);
		expect(await seqsFor(ana, `${w.slice(0, 5)}*`)).toEqual([s2, s1]);
		expect(await seqsFor(ana, `${w} tuesday`)).toEqual([s2, s1]);
		expect(await seqsFor(ana, `${w} standup`)).toEqual([s2]);
		// Still typing: the last word is a prefix.
		expect(await seqsFor(ana, `${w} stand`, { typing: true })).toEqual([s2]);
		expect(await seqsFor(ana, `${w} stand`)).toEqual([]);

		const [hit] = (await find(ana, `${w} standup`)).messages.items;
		expect(hit).toMatchObject({ roomId: room, seq: s2, joined: true, roomKind: 'group' });
		expect(hit!.author).toMatchObject({ id: ana.id, displayName: 'Ana' });
		expect(hit!.snippet).toEqual([
			{ text: 'Tuesday ', match: false },
			{ text: w, match: true },
			{ text: ' ', match: false },
			{ text: 'standup', match: true }
		]);
	});

	it('reads the query as words, never as the index syntax', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		const seq = await post(room, `${w} NEAR OR AND NOT body tags`, { by: ana });
		for (const q of [
			`${w} NEAR(`,
			`${w} OR`,
			`"${w} NEAR"`,
			`${w} body:`,
			`${w} {tags}`,
			`${w} -x`,
			`${w} ^`,
			`${w} "`,
			`${w} AND NOT`
		]) {
			const found = await searchEverything(db(), ana.id, { q });
			expect(found.ok, q).toBe(true);
		}
		expect(await seqsFor(ana, `${w} near or`)).toEqual([seq]);
		// The filters' own words are not found in the text column by typing them.
		expect(await seqsFor(ana, `from${ana.id}`)).toEqual([]);
	});

	it('finds any script, accents either way, emoji, and words deep in a long message', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		const cafe = await post(room, `${w} Café crème at noon`, { by: ana });
		const cyrillic = await post(room, `${w} привет мир`, { by: ana });
		const japanese = await post(room, `${w} 東京タワー 見学`, { by: ana });
		const rocket = await post(room, `${w} ship it 🚀`, { by: ana });
		const long = await post(room, `${w} ${'filler '.repeat(560)}needle${w}`, { by: ana });

		expect(await seqsFor(ana, `${w} cafe creme`)).toEqual([cafe]);
		expect(await seqsFor(ana, `${w} CAFÉ`)).toEqual([cafe]);
		expect(await seqsFor(ana, `${w} мир`)).toEqual([cyrillic]);
		expect(await seqsFor(ana, `${w} прив*`)).toEqual([cyrillic]);
		expect(await seqsFor(ana, `${w} 東京タワー`)).toEqual([japanese]);
		expect(await seqsFor(ana, `${w} 東京`, { typing: true })).toEqual([japanese]);
		expect(await seqsFor(ana, `${w} 🚀`)).toEqual([rocket]);
		expect(await seqsFor(ana, `needle${w}`)).toEqual([long]);
		const [hit] = (await find(ana, `needle${w}`)).messages.items;
		// The snippet is the part around the match, not the whole message.
		expect(hit!.snippet.map((p) => p.text).join('').length).toBeLessThan(300);
		expect(hit!.snippet.some((p) => p.match && p.text === `needle${w}`)).toBe(true);
	});

	it('ranks best matches first when asked, and pages by cursor without gaps or repeats', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		const weak = await post(room, `${w} ${'and more words here '.repeat(20)}`, { by: ana });
		const strong = await post(room, `${w} ${w} ${w}`, { by: ana });
		const middle = await post(room, `${w} lunch`, { by: ana });
		expect(await seqsFor(ana, w, { sort: 'best' })).toEqual([strong, middle, weak]);
		expect(await seqsFor(ana, w)).toEqual([middle, strong, weak]);

		const all: number[] = [];
		for (let i = 0; i < 45; i++) all.push(await post(room, `${w} page filler ${i}`, { by: ana }));
		for (const sort of ['recent', 'best'] as const) {
			const seen: number[] = [];
			let cursor: string | null = null;
			do {
				const found = await find(ana, `${w} page`, { sort, cursor });
				expect(found.messages.items.length).toBeLessThanOrEqual(20);
				seen.push(...found.messages.items.map((hit) => hit.seq));
				cursor = found.messages.nextCursor;
			} while (cursor);
			expect(seen.length).toBe(45);
			expect(new Set(seen).size).toBe(45);
			if (sort === 'recent') expect(seen).toEqual([...all].reverse());
		}
		const refused = await searchEverything(db(), ana.id, { q: w, cursor: 'r.1.2' });
		expect(refused).toMatchObject({ ok: false, status: 400 });
		const wrongSort = await find(ana, `${w} page`);
		const mixed = await searchEverything(db(), ana.id, {
			q: `${w} page`,
			sort: 'best',
			cursor: wrongSort.messages.nextCursor
		});
		expect(mixed).toMatchObject({ ok: false, status: 400 });
	});

	it('pages newest first across many rooms in the order of time, none missed', async () => {
		// Each room gives at most a page of its newest matches per request: the merge across
		// rooms must still come out in time order, page after page.
		const ana = await seedUser('ana');
		const rooms = [await group(ana), await group(ana), await group(ana)];
		const w = word();
		const sent: [string, number][] = [];
		for (let i = 0; i < 75; i++) {
			const room = rooms[(i * 7) % 3]!;
			sent.push([room, await post(room, `${w} item ${i}`, { by: ana })]);
		}
		const seen: [string, number][] = [];
		let cursor: string | null = null;
		do {
			const found = await find(ana, w, { cursor });
			seen.push(...found.messages.items.map((hit): [string, number] => [hit.roomId, hit.seq]));
			cursor = found.messages.nextCursor;
		} while (cursor);
		expect(seen).toEqual([...sent].reverse());
	});

	it('filters by author, room, files, links and days', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const room = await group(ana, bob);
		const other = await group(ana);
		await db().update(rooms).set({ name: 'Design Crit' }).where(eq(rooms.id, other));
		const w = word();
		const attached = (kind: string, name: string) =>
			JSON.stringify([{ id: `f${Math.random()}`, name, type: 'x/y', kind, size: 1 }]);

		const byAna = await post(room, `${w} plain`, { by: ana });
		const byBob = await post(room, `${w} from bob`, { by: bob });
		const image = await post(room, `${w} look`, {
			by: bob,
			attachments: attached('image', 'beach.png')
		});
		const doc = await post(room, '', {
			by: ana,
			attachments: attached('document', `report-${w}.pdf`)
		});
		const link = await post(room, `${w} see https://example.test/x`, { by: ana });
		const elsewhere = await post(other, `${w} in design`, { by: ana });

		expect(await seqsFor(ana, `${w} from:@${bob.username}`)).toEqual([image, byBob]);
		expect(await seqsFor(ana, `from:@${bob.username} has:image`)).toEqual([image]);
		expect(await seqsFor(ana, `${w} has:file`)).toEqual([doc, image]);
		expect(await seqsFor(ana, `${w} has:document`)).toEqual([doc]);
		expect(await seqsFor(ana, `${w} has:link`)).toEqual([link]);
		// File names are found like words.
		expect(await seqsFor(ana, `report ${w}`)).toEqual([doc]);
		// A room's name must be whole; none is named so: a clear refusal, not an empty answer.
		expect(await searchEverything(db(), ana.id, { q: `${w} in:#design` })).toMatchObject({
			ok: false,
			status: 400,
			message: 'None of your conversations is #design.'
		});
		await db().update(rooms).set({ name: 'design' }).where(eq(rooms.id, other));
		expect(await seqsFor(ana, `${w} in:#design`)).toEqual([elsewhere]);
		expect(await seqsFor(ana, w, { roomId: other })).toEqual([elsewhere]);
		const inRoom = (await find(ana, w, { roomId: room })).messages.items;
		expect(new Set(inRoom.map((hit) => hit.roomId))).toEqual(new Set([room]));

		const unknown = await searchEverything(db(), ana.id, { q: `${w} from:@nobody${w}` });
		expect(unknown).toMatchObject({
			ok: false,
			status: 400,
			message: `No one is called @nobody${w}.`
		});
		const noRoom = await searchEverything(db(), ana.id, { q: `${w} in:#nowhere${w}` });
		expect(noRoom).toMatchObject({ ok: false, status: 400 });

		// Days: this test's messages are all on the day of `clock`.
		const day = new Date(clock).toISOString().slice(0, 10);
		const next = new Date(clock + DAY).toISOString().slice(0, 10);
		const before = new Date(clock - DAY).toISOString().slice(0, 10);
		expect(await seqsFor(ana, `${w} plain after:${day}`)).toEqual([byAna]);
		expect(await seqsFor(ana, `${w} plain before:${day}`)).toEqual([]);
		expect(await seqsFor(ana, `${w} plain after:${before} before:${next}`)).toEqual([byAna]);
	});

	it('reads days in the person’s own time zone', () => {
		expect(startOfDay('2026-12-01', 'UTC')).toBe(Date.parse('2026-12-01T00:00:00Z'));
		expect(startOfDay('2026-12-01', 'America/New_York')).toBe(Date.parse('2026-12-01T05:00:00Z'));
		expect(startOfDay('2026-07-01', 'America/New_York')).toBe(Date.parse('2026-07-01T04:00:00Z'));
		expect(startOfDay('2026-12-01', 'Asia/Tokyo')).toBe(Date.parse('2026-11-30T15:00:00Z'));
		expect(startOfDay('2026-12-01', 'Not/AZone')).toBe(Date.parse('2026-12-01T00:00:00Z'));
	});

	it('refuses what would match nearly everything, with a message to act on', async () => {
		const ana = await seedUser('ana');
		for (const q of ['*', 'the and of', 'a*', '"', 'has:nothing', 'before:yesterday']) {
			const found = await searchEverything(db(), ana.id, { q });
			if (q === '"') {
				expect(found.ok, q).toBe(true);
				continue;
			}
			expect(found, q).toMatchObject({ ok: false, status: 400 });
			expect((found as { message: string }).message.length, q).toBeGreaterThan(10);
		}
		// A common word beside a specific one is fine.
		expect((await searchEverything(db(), ana.id, { q: 'the plan' })).ok).toBe(true);
	});

	it('splits a snippet into marked parts', () => {
		expect(snippetParts('a \u0002b\u0003 c \u0002d\u0003')).toEqual([
			{ text: 'a ', match: false },
			{ text: 'b', match: true },
			{ text: ' c ', match: false },
			{ text: 'd', match: true }
		]);
		expect(snippetParts('<b>x</b>')).toEqual([{ text: '<b>x</b>', match: false }]);
	});
});

describe('edits and deletions', () => {
	it('finds an edited message by its new words only, and a deleted one never', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		const seq = await post(room, `${w} original wording`, { by: ana });
		expect(await seqsFor(ana, `${w} original`)).toEqual([seq]);

		await rewrite(room, seq, `${w} corrected text`, ana, { editedAt: clock });
		expect(await seqsFor(ana, `${w} original`)).toEqual([]);
		expect(await seqsFor(ana, `${w} corrected`)).toEqual([seq]);
		expect((await find(ana, `${w} corrected`)).messages.items[0]!.editedAt).toBe(clock);

		// A repeated flush of the same row changes nothing.
		await rewrite(room, seq, `${w} corrected text`, ana, { editedAt: clock });
		expect(await seqsFor(ana, `${w} corrected`)).toEqual([seq]);

		await rewrite(room, seq, '', ana, { deletedAt: clock, editedAt: clock });
		expect(await seqsFor(ana, w)).toEqual([]);
		const [entries] = await db().all<{ n: number }>(
			sql`select count(*) as n from message_search where message_search match ${`"${w}"`}`
		);
		expect(entries!.n).toBe(0);
	});

	it('never indexes system messages, and forgets a deleted room’s messages', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		await post(room, `${w} joined`, { by: ana, kind: 'system' });
		await post(room, `${w} hello`, { by: ana });
		expect(await seqsFor(ana, `${w} joined`)).toEqual([]);
		await db().delete(rooms).where(eq(rooms.id, room));
		const [entries] = await db().all<{ n: number }>(
			sql`select count(*) as n from message_search where message_search match ${`"${w}"`}`
		);
		expect(entries!.n).toBe(0);
		// A new room never takes over the old one's entries.
		const again = await group(ana);
		await post(again, 'fresh', { by: ana });
		expect(await seqsFor(ana, w)).toEqual([]);
	});
});

describe('who sees what', () => {
	it('searches only rooms readable now: not after leaving, removal, a ban or a block', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const eve = await seedUser('eve');
		const shared = await group(ana, bob);
		const anaOnly = await group(ana);
		const w = word();
		await openToMessages(bob);
		const inShared = await post(shared, `${w} shared`, { by: ana });
		await post(anaOnly, `${w} private`, { by: ana });
		const direct = await findOrCreateDirectRoom(db(), ana.id, bob.id);
		if (!direct.ok) throw new Error(direct.message);
		const inDirect = await post(direct.roomId, `${w} direct`, { by: ana });

		expect(await seqsFor(eve, w)).toEqual([]);
		expect((await find(bob, w)).messages.items.map((h) => [h.roomId, h.seq])).toEqual([
			[direct.roomId, inDirect],
			[shared, inShared]
		]);
		const [directHit] = (await find(bob, `${w} direct`)).messages.items;
		expect(directHit).toMatchObject({ roomKind: 'direct', roomName: 'Ana' });

		// A room Bob may not read, asked for by id, is the same 404 as a missing one.
		expect(await searchEverything(db(), bob.id, { q: w, roomId: anaOnly })).toMatchObject({
			ok: false,
			status: 404
		});

		// Blocked, either way: the direct conversation leaves Bob's search at once.
		await db()
			.insert(blocks)
			.values({ blockerId: bob.id, blockedId: ana.id, createdAt: Date.now() });
		expect((await find(bob, w)).messages.items.map((h) => h.roomId)).toEqual([shared]);
		await db().delete(blocks).where(eq(blocks.blockerId, bob.id));
		await db()
			.insert(blocks)
			.values({ blockerId: ana.id, blockedId: bob.id, createdAt: Date.now() });
		expect((await find(bob, w)).messages.items.map((h) => h.roomId)).toEqual([shared]);

		// Banned (even with a membership row left behind), then removed.
		await db().insert(roomBans).values({ roomId: shared, userId: bob.id, createdAt: Date.now() });
		expect(await seqsFor(bob, w)).toEqual([]);
		await db().delete(roomBans).where(eq(roomBans.userId, bob.id));
		expect(await seqsFor(bob, w)).toEqual([inShared]);
		await db()
			.delete(memberships)
			.where(and(eq(memberships.roomId, shared), eq(memberships.userId, bob.id)));
		expect(await seqsFor(bob, w)).toEqual([]);
	});

	it('searches public rooms not joined only when asked, and never one banned from', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const open = await createRoom(db(), {
			kind: 'public',
			name: `Open ${word()}`,
			createdBy: ana.id
		});
		const closed = await createRoom(db(), {
			kind: 'public',
			name: `Shut ${word()}`,
			createdBy: ana.id
		});
		const w = word();
		const inOpen = await post(open.id, `${w} open talk`, { by: ana });
		await post(closed.id, `${w} closed talk`, { by: ana });
		await db()
			.insert(roomBans)
			.values({ roomId: closed.id, userId: bob.id, createdAt: Date.now() });

		expect(await seqsFor(bob, w)).toEqual([]);
		const found = await find(bob, w, { publicRooms: true });
		expect(found.messages.items.map((h) => [h.roomId, h.seq, h.joined])).toEqual([
			[open.id, inOpen, false]
		]);
		expect(
			await searchEverything(db(), bob.id, { q: w, roomId: closed.id, publicRooms: true })
		).toMatchObject({
			ok: false,
			status: 404
		});
	});

	it('holds the query’s scope to the read rule, for every kind of person and room', async () => {
		// Every role, a stranger, someone banned (with and without a membership row left), and
		// direct rooms blocked either way: the SQL scope must hold exactly what decideRoom reads.
		const owner = await seedUser('owner');
		const admin = await seedUser('admin');
		const member = await seedUser('member');
		const stranger = await seedUser('stranger');
		const banned = await seedUser('banned');
		const friend = await seedUser('friend');
		const people = [owner, admin, member, stranger, banned, friend];
		await openToMessages(friend);
		const roomIds = [
			await group(owner, admin, member, banned),
			(await createRoom(db(), { kind: 'public', name: 'P', createdBy: owner.id })).id
		];
		await grantMembership(db(), roomIds[1]!, banned.id);
		await grantMembership(db(), roomIds[1]!, admin.id);
		await db().update(memberships).set({ role: 'admin' }).where(eq(memberships.userId, admin.id));
		for (const id of roomIds) {
			await db().insert(roomBans).values({ roomId: id, userId: banned.id, createdAt: Date.now() });
		}
		for (const [a, b] of [
			[owner, friend],
			[member, friend],
			[banned, friend]
		] as const) {
			const direct = await findOrCreateDirectRoom(db(), a.id, b.id);
			if (direct.ok) roomIds.push(direct.roomId);
		}
		await db()
			.insert(blocks)
			.values({ blockerId: friend.id, blockedId: member.id, createdAt: Date.now() });
		await db()
			.insert(blocks)
			.values({ blockerId: banned.id, blockedId: friend.id, createdAt: Date.now() });

		for (const person of people) {
			const scope = await db().all<{ room_id: string }>(
				sql`select room_id from (${readableRooms(person.id)})`
			);
			const inScope = new Set(scope.map((r) => r.room_id));
			for (const roomId of roomIds) {
				const may = decideRoom(await loadRoomAccess(db(), roomId, person.id), 'read').ok;
				expect(inScope.has(roomId), `${person.name} in ${roomId}`).toBe(may);
			}
		}
	});
});

describe('the statement', () => {
	const me = 'someone';
	const base: ParsedQuery = parseSearchQuery('plan') as ParsedQuery;
	const variants: [string, ParsedQuery, Partial<Parameters<typeof messageSearchStatement>[2]>][] = [
		['a word', base, {}],
		['a phrase and a prefix', parseSearchQuery('"next plan" des*') as ParsedQuery, {}],
		['from', parseSearchQuery('plan from:@x') as ParsedQuery, { authorIds: ['x'] }],
		['from alone', parseSearchQuery('from:@x') as ParsedQuery, { authorIds: ['x'] }],
		['has', parseSearchQuery('plan has:image') as ParsedQuery, {}],
		['in rooms', base, { roomIds: ['r1', 'r2'] }],
		['days', parseSearchQuery('plan after:2026-01-01 before:2026-02-01') as ParsedQuery, {}],
		['public rooms', base, { publicRooms: true }],
		[
			'best, second page',
			base,
			{ sort: 'best', cursor: { sort: 'best', score: -1, at: 1, room: 2, seq: 3 } }
		],
		['recent, second page', base, { cursor: { sort: 'recent', at: 1, room: 2, seq: 3 } }]
	];

	it.each(variants)('walks indexes only: %s', async (_name, query, plan) => {
		const statement = messageSearchStatement(me, query, {
			authorIds: [],
			roomIds: [],
			publicRooms: false,
			sort: 'recent',
			cursor: null,
			limit: 20,
			timeZone: 'UTC',
			...plan
		});
		const steps = (await db().all<{ detail: string }>(sql`explain query plan ${statement}`)).map(
			(step) => step.detail
		);
		// Every table is reached through an index (SEARCH), the index through its ranges, and
		// nothing is read whole: the only scans are of the full-text index itself, by MATCH, and
		// of the statement's own small intermediate results.
		for (const step of steps.filter((s) => s.startsWith('SCAN '))) {
			expect(step, steps.join('\n')).toMatch(
				/^SCAN (f|message_search) VIRTUAL TABLE INDEX \d+:|^SCAN (h|s|scope|\(subquery-\d+\))(\s|$)/
			);
		}
		expect(steps.join('\n')).toMatch(/SCAN f VIRTUAL TABLE INDEX \d+:M\S*></);
		expect(steps.join('\n')).toMatch(
			/SEARCH memberships USING (COVERING )?INDEX (memberships_user_idx|sqlite_autoindex_memberships_1)/
		);
		expect(steps.join('\n')).toMatch(
			/SEARCH m USING INDEX sqlite_autoindex_messages_1 \(room_id=\? AND seq=\?\)/
		);
		expect(steps.join('\n')).not.toMatch(/SCAN (messages|memberships|rooms|m|r)\b/);
	});

	it('the endpoint limits each person’s rate, with Retry-After', async () => {
		const ana = await seedUser('ana');
		const params = new URLSearchParams({ q: word() });
		let refused: Awaited<ReturnType<typeof searchRequest>> | null = null;
		for (let i = 0; i < 130 && !refused; i++) {
			const found = await searchRequest(db(), ana.id, params);
			if (!found.ok) refused = found;
		}
		expect(refused).toMatchObject({ ok: false, status: 429, code: 'rate_limited' });
		expect((refused as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
		// Someone else is not slowed by it.
		const bob = await seedUser('bob');
		expect((await searchRequest(db(), bob.id, params)).ok).toBe(true);
	});
});

describe('the migration', () => {
	it('indexes the history that existed before it, and numbers the rooms that existed', async () => {
		const ana = await seedUser('ana');
		const room = await group(ana);
		const w = word();
		// History from before the index: written with the index and its triggers gone.
		const migration = env.TEST_MIGRATIONS.find((m) => m.name.includes('message_search'))!;
		const handWritten = migration.queries.slice(
			migration.queries.findIndex((q) => q.includes('CREATE VIRTUAL TABLE'))
		);
		await env.DB.batch(
			[
				'DROP TRIGGER messages_search_insert',
				'DROP TRIGGER messages_search_update',
				'DROP TRIGGER messages_search_delete',
				'DROP TRIGGER rooms_search_forget',
				'DROP TRIGGER rooms_search_key',
				'DROP VIEW message_search_source',
				'DROP TABLE message_search'
			].map((q) => env.DB.prepare(q))
		);
		await db().update(rooms).set({ searchKey: null }).where(eq(rooms.id, room));
		const old = await post(room, `${w} from before the index`, { by: ana });
		const deletedBefore = await post(room, `${w} gone before`, { by: ana });
		await rewrite(room, deletedBefore, '', ana, { deletedAt: clock });

		await env.DB.batch(handWritten.map((q) => env.DB.prepare(q)));
		const [numbered] = await db()
			.select({ key: rooms.searchKey })
			.from(rooms)
			.where(eq(rooms.id, room));
		expect(numbered!.key).toBeGreaterThan(0);
		expect(await seqsFor(ana, w)).toEqual([old]);
		// And the triggers are back: new history is indexed too.
		const after = await post(room, `${w} after`, { by: ana });
		expect(await seqsFor(ana, w)).toEqual([after, old]);
	});
});
