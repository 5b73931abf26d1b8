// A room's "Media and files" list (files/media.ts): only files messages carry in that room,
// newest first, paged by a cursor that holds across files stored in the same millisecond, and
// nothing at all for someone who may not read the room.
import { describe, expect, it } from 'vitest';
import { files, roomBans } from '$shared/db/schema';
import { loadRoomAccess } from '$lib/server/rooms/authz';
import { listRoomMedia, mediaCursor, parseMediaCursor } from '$lib/server/files/media';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';

let made = 0;

/** A file row as the upload and the flush leave it (the list reads D1 only, not the bucket). */
async function file(
	roomId: string | null,
	uploader: Person,
	values: Partial<typeof files.$inferInsert> = {}
) {
	const id = values.id ?? `file${++made}${Math.random().toString(36).slice(2, 8)}`;
	await db()
		.insert(files)
		.values({
			id,
			r2Key: `f/${id}`,
			uploaderId: uploader.id,
			roomId,
			name: `${id}.png`,
			type: 'image/png',
			kind: 'image',
			size: 68,
			width: 4,
			height: 3,
			placeholder: null,
			createdAt: 1_000,
			messageSeq: 1,
			...values
		});
	return id;
}

async function list(person: Person, roomId: string, before?: string | null, limit?: number) {
	return listRoomMedia(db(), await loadRoomAccess(db(), roomId, person.id), { before, limit });
}

describe('a room’s media and files', () => {
	it('lists the files messages carry, newest first, with who shared them', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const roomId = await seedRoom(alice, bob);
		const old = await file(roomId, alice, { createdAt: 1_000, messageSeq: 1 });
		const recent = await file(roomId, bob, {
			createdAt: 3_000,
			messageSeq: 3,
			kind: 'document',
			type: 'application/pdf',
			name: 'plan.pdf',
			width: null,
			height: null
		});
		const middle = await file(roomId, alice, { createdAt: 2_000, messageSeq: 2 });

		const page = await list(bob, roomId);
		expect(page?.items.map((item) => item.id)).toEqual([recent, middle, old]);
		expect(page?.older).toBeNull();
		expect(page?.items[0]).toMatchObject({
			name: 'plan.pdf',
			kind: 'document',
			size: 68,
			url: `/files/${recent}`,
			messageSeq: 3,
			createdAt: 3_000,
			uploaderName: 'Bob'
		});
		// Nothing that only the server may know leaves it.
		expect(page?.items[0]).not.toHaveProperty('r2Key');
		expect(page?.items[0]).not.toHaveProperty('uploaderId');
	});

	it('leaves out uploads no message carries, pictures, other rooms and deleted rooms', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const otherRoom = await seedRoom(alice);
		const shown = await file(roomId, alice);
		await file(roomId, alice, { messageSeq: null });
		await file(roomId, alice, { purpose: 'icon', messageSeq: null });
		await file(null, alice, { purpose: 'avatar', messageSeq: null });
		await file(otherRoom, alice);
		await file(null, alice);

		expect((await list(alice, roomId))?.items.map((item) => item.id)).toEqual([shown]);
	});

	it('pages by a cursor, in order across files stored in the same millisecond', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		// Seven files, five of them at one moment: the id breaks the tie.
		const ids = [
			await file(roomId, alice, { id: 'tie-a', createdAt: 5_000 }),
			await file(roomId, alice, { id: 'tie-c', createdAt: 5_000 }),
			await file(roomId, alice, { id: 'tie-b', createdAt: 5_000 }),
			await file(roomId, alice, { id: 'tie-e', createdAt: 5_000 }),
			await file(roomId, alice, { id: 'tie-d', createdAt: 5_000 }),
			await file(roomId, alice, { id: 'late', createdAt: 9_000 }),
			await file(roomId, alice, { id: 'early', createdAt: 1_000 })
		];
		const expected = ['late', 'tie-e', 'tie-d', 'tie-c', 'tie-b', 'tie-a', 'early'];
		expect(new Set(ids)).toEqual(new Set(expected));

		const seen: string[] = [];
		let before: string | null = null;
		let pages = 0;
		do {
			const page = await list(alice, roomId, before, 2);
			expect(page!.items.length).toBeLessThanOrEqual(2);
			seen.push(...page!.items.map((item) => item.id));
			before = page!.older;
			pages++;
		} while (before !== null);
		expect(seen).toEqual(expected);
		expect(pages).toBe(4);

		// A page that ends exactly at the last file says there is nothing older.
		const all = await list(alice, roomId, null, 7);
		expect(all?.items).toHaveLength(7);
		expect(all?.older).toBeNull();
		expect(mediaCursor(all!.items[2]!)).toBe('5000:tie-d');
	});

	it('reads a malformed or hostile cursor as the newest page', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const only = await file(roomId, alice);
		for (const cursor of [
			'',
			'x',
			'12',
			':abc',
			'1:',
			"1:a' or 1=1 --",
			'1e3:a',
			'-1:a',
			'1:a:b'
		]) {
			expect(parseMediaCursor(cursor), cursor).toBeNull();
			expect((await list(alice, roomId, cursor))?.items.map((i) => i.id)).toEqual([only]);
		}
		expect(parseMediaCursor('1700000000000:abc')).toEqual({ createdAt: 1700000000000, id: 'abc' });
	});

	it('gives nothing to anyone who may not read the room: outsiders, the banned, visitors', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const erin = await seedUser('erin');
		const roomId = await seedRoom(alice, bob);
		await file(roomId, alice);
		expect((await list(bob, roomId))?.items).toHaveLength(1);

		expect(await list(erin, roomId)).toBeNull();
		await db().insert(roomBans).values({ roomId, userId: bob.id, createdAt: Date.now() });
		expect(await list(bob, roomId)).toBeNull();
		expect(await listRoomMedia(db(), await loadRoomAccess(db(), roomId, null))).toBeNull();
		expect(await list(alice, 'no-such-room')).toBeNull();
	});
});
