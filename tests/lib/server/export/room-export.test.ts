// A room's history export: its owner and admins download every message in order (deleted ones as
// tombstones) as JSON or as a self-contained HTML page, and each export is in the audit log;
// members, strangers and visitors are refused as the room refuses them. Either person of a
// direct conversation may export it, and that is nobody's moderation.
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { messages } from '$shared/db/schema';
import { listAudit } from '$lib/server/moderation/audit';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { ROOM_EXPORT_PAGE_SIZE } from '$lib/server/export/room-export';
import { GET } from '../../../../src/routes/api/rooms/[id]/export/+server';
import { signedInBrowser } from '../../../support/accounts';
import { befriend, setRole } from '../../../support/people';
import { TestBrowser, type Outcome } from '../../../support/request-event';
import { db, seedRoom, seedUser } from '../../../helpers';
import { writeMessages } from './support';

type Exported = {
	format: string;
	room: { id: string; name: string; kind: string };
	members: { username: string; role: string }[];
	messages: {
		seq: number;
		sender: { id: string; name: string } | null;
		body: string;
		deleted?: true;
		deletedAt?: string;
		editedAt?: string;
		reactions?: Record<string, string[]>;
	}[];
};

function exportAs(browser: TestBrowser, roomId: string, format: string): Promise<Outcome> {
	return browser.call(GET, {
		path: `/api/rooms/${roomId}/export?format=${format}`,
		params: { id: roomId }
	});
}

async function body(outcome: Outcome): Promise<string> {
	if (outcome.kind !== 'response')
		throw new Error(`expected a download: ${JSON.stringify(outcome)}`);
	return outcome.response.text();
}

/**
 * Ana owns a room where Ben is an admin and Cleo a member; Sam is in no room of theirs. There is
 * more than a page of history: Ana's messages, then Ben's `<script>`, an edited one with a
 * reaction, an emoji, one Ana deleted and one Ben removed.
 */
async function world() {
	const [ana, ben, cleo, sam] = await Promise.all(
		['ana', 'ben', 'cleo', 'sam'].map((name) => seedUser(name))
	);
	const roomId = await seedRoom(ana!, ben!, cleo!);
	await setRole(roomId, ben!, 'admin');
	const count = ROOM_EXPORT_PAGE_SIZE + 30;
	await writeMessages(roomId, ana!.id, count, { prefix: 'ana says' });
	await writeMessages(roomId, ben!.id, 4, { firstSeq: count + 1, prefix: 'ben says' });
	const at = (seq: number) => and(eq(messages.roomId, roomId), eq(messages.seq, seq));
	await db()
		.update(messages)
		.set({ body: '<script>alert("pwned")</script> **bold**' })
		.where(at(count + 1));
	await db()
		.update(messages)
		.set({
			body: 'edited words',
			editedAt: Date.UTC(2026, 0, 6),
			reactions: JSON.stringify({ '👍': [ana!.id, cleo!.id] })
		})
		.where(at(count + 2));
	await db()
		.update(messages)
		.set({ body: 'ship it 🚀' })
		.where(at(count + 3));
	await db()
		.update(messages)
		.set({ body: '', deletedAt: Date.UTC(2026, 0, 7) })
		.where(at(10));
	await db()
		.update(messages)
		.set({ body: '', deletedAt: Date.UTC(2026, 0, 7), deletedBy: ben!.id })
		.where(at(11));
	const browsers = {
		ana: await signedInBrowser(ana!),
		ben: await signedInBrowser(ben!),
		cleo: await signedInBrowser(cleo!),
		sam: await signedInBrowser(sam!)
	};
	return { ana: ana!, ben: ben!, cleo: cleo!, sam: sam!, roomId, count: count + 4, browsers };
}

describe('a room’s history export', () => {
	it('gives the owner every message in order as JSON, a deleted one as a tombstone', async () => {
		const w = await world();
		const outcome = await exportAs(w.browsers.ana, w.roomId, 'json');
		if (outcome.kind !== 'response') throw new Error(JSON.stringify(outcome));
		expect(outcome.response.headers.get('content-type')).toBe('application/json; charset=utf-8');
		expect(outcome.response.headers.get('content-disposition')).toMatch(
			/^attachment; filename="parley-test-room-\d{4}-\d{2}-\d{2}\.json"$/
		);
		const exported = JSON.parse(await body(outcome)) as Exported;
		expect(exported.format).toBe('parley.room-history');
		expect(exported.room).toMatchObject({ id: w.roomId, name: 'Test room', kind: 'group' });
		expect(exported.members.map((m) => [m.username, m.role])).toEqual([
			[w.ana.username, 'owner'],
			[w.ben.username, 'admin'],
			[w.cleo.username, 'member']
		]);
		expect(exported.messages.map((m) => m.seq)).toEqual(
			Array.from({ length: w.count }, (_, i) => i + 1)
		);
		expect(exported.messages[0]).toMatchObject({
			sender: { id: w.ana.id, name: 'Ana' },
			body: 'ana says 1'
		});
		expect(exported.messages[9]).toMatchObject({
			seq: 10,
			sender: { id: w.ana.id },
			body: '',
			deleted: true,
			deletedAt: '2026-01-07T00:00:00.000Z'
		});
		expect(exported.messages[9]).not.toHaveProperty('removedByModerator');
		expect(exported.messages[10]).toMatchObject({
			seq: 11,
			deleted: true,
			removedByModerator: true
		});
		expect(exported.messages[w.count - 3]).toMatchObject({
			sender: { name: 'Ben' },
			body: 'edited words',
			editedAt: '2026-01-06T00:00:00.000Z',
			reactions: { '👍': [w.ana.id, w.cleo.id] }
		});
	});

	it('gives an admin a readable HTML page that escapes what people wrote and fetches nothing', async () => {
		const w = await world();
		const outcome = await exportAs(w.browsers.ben, w.roomId, 'html');
		if (outcome.kind !== 'response') throw new Error(JSON.stringify(outcome));
		expect(outcome.response.headers.get('content-type')).toBe('text/html; charset=utf-8');
		expect(outcome.response.headers.get('content-disposition')).toMatch(/\.html"$/);
		const html = await body(outcome);

		expect(html).toMatch(/^<!doctype html>/);
		expect(html).toContain('<h1>Test room</h1>');
		expect(html).toContain('ana says 1</p>');
		expect(html).toContain(`ana says ${w.count - 4}</p>`);
		expect(html).toContain('Message deleted.');
		expect(html).toContain('Message removed by an admin.');
		expect(html).not.toMatch(/ana says 1[01]</);
		// The script is text; the Markdown around it still renders.
		expect(html).toContain(
			'&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; <strong>bold</strong>'
		);
		expect(html).not.toMatch(/<script/i);
		expect(html).toContain('(edited)');
		expect(html).toContain('👍 2');
		expect(html).toContain('ship it 🚀');
		// Self-contained: no scripts, pictures, style sheets or anything else to fetch.
		expect(html).not.toMatch(/\bsrc=|<link|@import|url\(|https?:|\/\//i);
		expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
		expect(html).toContain('<h2 class="day">Monday, 5 January 2026</h2>');
		expect(html).toMatch(/<\/html>\n$/);
	});

	it('records each export by an owner or admin in the room’s audit log', async () => {
		const w = await world();
		await body(await exportAs(w.browsers.ana, w.roomId, 'json'));
		await body(await exportAs(w.browsers.ben, w.roomId, 'html'));
		const { entries } = await listAudit(db(), { roomId: w.roomId });
		expect(
			entries.map((e) => [e.actorId, e.actorRole, e.action, e.targetKind, e.targetId, e.details])
		).toEqual([
			[w.ben.id, 'room_admin', 'room.export', 'room', w.roomId, '{"format":"html"}'],
			[w.ana.id, 'room_admin', 'room.export', 'room', w.roomId, '{"format":"json"}']
		]);
	});

	it('refuses a plain member, a stranger and a visitor, and records nothing', async () => {
		const w = await world();
		expect(await exportAs(w.browsers.cleo, w.roomId, 'json')).toMatchObject({
			kind: 'error',
			status: 403,
			message: 'Only admins can do that.'
		});
		expect(await exportAs(w.browsers.sam, w.roomId, 'html')).toMatchObject({
			kind: 'error',
			status: 404
		});
		expect(await exportAs(new TestBrowser(), w.roomId, 'json')).toMatchObject({
			kind: 'error',
			status: 401
		});
		expect(await exportAs(w.browsers.ana, 'no-such-room', 'json')).toMatchObject({
			kind: 'error',
			status: 404
		});
		expect(await exportAs(w.browsers.ana, w.roomId, 'pdf')).toMatchObject({
			kind: 'error',
			status: 400
		});
		expect((await listAudit(db(), { roomId: w.roomId })).entries).toEqual([]);
	});

	it('lets either person export a direct conversation, unaudited, and nobody else', async () => {
		const [ana, ben, sam] = await Promise.all(['ana', 'ben', 'sam'].map((n) => seedUser(n)));
		await befriend(ana!, ben!);
		const direct = await findOrCreateDirectRoom(db(), ana!.id, ben!.id);
		if (!direct.ok) throw new Error('direct room');
		await writeMessages(direct.roomId, ana!.id, 2, { prefix: 'hi ben' });
		await writeMessages(direct.roomId, ben!.id, 1, { firstSeq: 3, prefix: 'hi ana' });

		const asBen = JSON.parse(
			await body(await exportAs(await signedInBrowser(ben!), direct.roomId, 'json'))
		) as Exported;
		// Named as Ben sees it: after the other person.
		expect(asBen.room).toMatchObject({ kind: 'direct', name: 'Ana' });
		expect(asBen.messages.map((m) => m.body)).toEqual(['hi ben 1', 'hi ben 2', 'hi ana 1']);
		const html = await body(await exportAs(await signedInBrowser(ana!), direct.roomId, 'html'));
		expect(html).toContain('<h1>Ben</h1>');
		expect(await exportAs(await signedInBrowser(sam!), direct.roomId, 'json')).toMatchObject({
			kind: 'error',
			status: 404
		});
		expect((await listAudit(db(), { roomId: direct.roomId })).entries).toEqual([]);
	});
});
