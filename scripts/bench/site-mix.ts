// The site mix's population: rooms of long-tailed sizes over a site's people, who is a member of
// what, and which room each person has open. Deterministic (a seeded generator), so a run and its
// "before" run see the same site.
import type { RoomSpec } from './accounts.ts';
import type { Settings } from './context.ts';

export type SizeClass = 'large' | 'medium' | 'direct';
export const SIZE_CLASSES: SizeClass[] = ['large', 'medium', 'direct'];

export type SiteRoom = RoomSpec & { first: number; cls: SizeClass; weight: number };

export const DEFAULT_PEOPLE = 2000;
export const DEFAULT_ROOMS = 300;

/** A small seeded generator (mulberry32): the same site every run. */
export function seeded(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/**
 * A few large rooms (one per hundred rooms, up to 500 members, a quarter of the site at most),
 * dozens of 20–50 (13% of the rooms) and direct conversations for the rest. Each room's members are
 * a run of consecutive people, so rooms overlap and most people belong to several. A room's share
 * of the site's messages goes by the square root of its size: a large room is busier than a small
 * one, but not in proportion to its members.
 */
export function siteRooms(s: Settings): SiteRoom[] {
	const people = s.clients;
	const rooms = Math.max(3, s.rooms ?? DEFAULT_ROOMS);
	const random = seeded(21);
	const large = Math.max(1, Math.round(rooms / 100));
	const medium = Math.max(1, Math.round(rooms * 0.13));
	const out: SiteRoom[] = [];
	// One direct conversation per pair (D1 keeps them unique).
	const pairs = new Set<number>();
	const add = (cls: SizeClass, members: number, kind: 'public' | 'direct') => {
		const size = Math.min(members, people);
		let first = Math.floor(random() * (people - size + 1));
		if (kind === 'direct') {
			while (pairs.has(first)) first = (first + 1) % (people - 1);
			pairs.add(first);
		}
		out.push({
			name: String(out.length),
			members: size,
			first,
			kind,
			cls,
			weight: Math.sqrt(size)
		});
	};
	const largeSize = Math.min(500, Math.max(2, Math.floor(people / 4)));
	for (let i = 0; i < large; i++) {
		// Spread over the site rather than drawn: large rooms cover most people between them.
		const first = Math.floor((i * (people - largeSize)) / Math.max(1, large - 1));
		out.push({
			name: String(i),
			members: largeSize,
			first,
			kind: 'public',
			cls: 'large',
			weight: Math.sqrt(largeSize)
		});
	}
	for (let i = 0; i < medium; i++) add('medium', 20 + Math.floor(random() * 31), 'public');
	// Direct conversations go first to people no room has yet: everyone has a room to open.
	const covered = new Uint8Array(people);
	for (const room of out) covered.fill(1, room.first, room.first + room.members);
	let next = 0;
	for (let i = large + medium; i < rooms; i++) {
		while (next < people - 1 && (covered[next] || pairs.has(next))) next++;
		if (next < people - 1) {
			pairs.add(next);
			covered.fill(1, next, next + 2);
			out.push({
				name: String(out.length),
				members: 2,
				first: next,
				kind: 'direct',
				cls: 'direct',
				weight: Math.SQRT2
			});
		} else add('direct', 2, 'direct');
	}
	return out;
}

/**
 * The room each person has open: one of theirs, drawn at random (a person in no room opens none
 * and only has the hub socket). Returns the room index per person, or -1.
 */
export function openRooms(people: number, rooms: SiteRoom[]): number[] {
	const random = seeded(8);
	const open = new Array<number>(people).fill(-1);
	const seen = new Array<number>(people).fill(0);
	rooms.forEach((room, index) => {
		for (let p = room.first; p < room.first + room.members; p++) {
			// Reservoir sampling: each of a person's rooms equally likely.
			seen[p]!++;
			if (random() * seen[p]! < 1) open[p] = index;
		}
	});
	return open;
}
