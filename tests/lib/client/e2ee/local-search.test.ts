// How what this device found in encrypted conversations joins the server's results: newest first,
// a local hit never ahead of a server page not loaded yet; by best match, after the server's last.
// (The search of the store itself needs IndexedDB, absent here.)
import { describe, expect, it } from 'vitest';
import { mergeHits, type FoundMessage } from '$lib/client/e2ee/local-search';

function hit(roomId: string, createdAt: number, local = false): FoundMessage {
	return {
		roomId,
		roomName: roomId,
		roomKind: 'group',
		joined: true,
		seq: createdAt,
		createdAt,
		editedAt: null,
		author: null,
		snippet: [{ text: 'found', match: true }],
		files: [],
		...(local ? { local: true as const } : {})
	};
}

const times = (hits: FoundMessage[]) => hits.map((h) => `${h.local ? 'L' : 'S'}${h.createdAt}`);

describe('mergeHits', () => {
	const server = [hit('plain', 90), hit('plain', 70), hit('plain', 50)];
	const local = [hit('sealed', 95, true), hit('sealed', 60, true), hit('sealed', 10, true)];

	it('puts every hit in time order, newest first, once the server has no more pages', () => {
		expect(times(mergeHits(server, local, { more: false }))).toEqual([
			'L95',
			'S90',
			'S70',
			'L60',
			'S50',
			'L10'
		]);
	});

	it('holds back local hits older than the server’s loaded pages while more pages follow', () => {
		expect(times(mergeHits(server, local, { more: true }))).toEqual([
			'L95',
			'S90',
			'S70',
			'L60',
			'S50'
		]);
		// The next page reaches further back: the older local hit shows then.
		const more = [...server, hit('plain', 5)];
		expect(times(mergeHits(more, local, { more: false }))).toContain('L10');
	});

	it('shows local hits alone when the server found nothing', () => {
		expect(times(mergeHits([], local, { more: false }))).toEqual(['L95', 'L60', 'L10']);
	});

	it('by best match, keeps the server’s order and puts local hits after its last page', () => {
		const ranked = [hit('plain', 50), hit('plain', 90)];
		expect(times(mergeHits(ranked, local, { more: true, sort: 'best' }))).toEqual(['S50', 'S90']);
		expect(times(mergeHits(ranked, local, { more: false, sort: 'best' }))).toEqual([
			'S50',
			'S90',
			'L95',
			'L60',
			'L10'
		]);
	});
});
