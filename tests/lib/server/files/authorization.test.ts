// Who may download a file: whoever may read its room's history now (authz.ts, `read`), asked on
// every request. Everyone else gets the same 404 as for a file that never existed, and the bytes
// stay where they are.
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { files, memberships, roomBans, rooms } from '$shared/db/schema';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';
import { befriend, block } from '../../../support/people';
import { FileClient, PNG, WEBM } from './support';

/** Downloads `url` as each client and returns their statuses, reading each body to the end. */
async function statuses(url: string, clients: Record<string, FileClient>) {
	const out: Record<string, number> = {};
	for (const [who, client] of Object.entries(clients)) {
		const response = await client.download(url);
		await response.arrayBuffer();
		out[who] = response.status;
	}
	return out;
}

describe('downloading a file of a group', () => {
	it('is for its members now: not for visitors, outsiders, or members removed or banned', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const dave = await seedUser('dave');
		const erin = await seedUser('erin');
		const roomId = await seedRoom(alice, bob, carol, dave);
		const file = await (await FileClient.as(bob)).stored(roomId, PNG, 'a.png');
		const clients = {
			anonymous: FileClient.anonymous(),
			nonMember: await FileClient.as(erin),
			owner: await FileClient.as(alice),
			uploader: await FileClient.as(bob),
			member: await FileClient.as(carol),
			banned: await FileClient.as(dave)
		};
		expect(await statuses(file.url, clients)).toEqual({
			anonymous: 404,
			nonMember: 404,
			owner: 200,
			uploader: 200,
			member: 200,
			banned: 200
		});

		// Bob (the uploader) is removed, Dave banned (his membership row left in place: the ban
		// alone is enough). The next request of each is refused, with no cache in between.
		await db()
			.delete(memberships)
			.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, bob.id)));
		await db().insert(roomBans).values({ roomId, userId: dave.id, createdAt: Date.now() });
		expect(await statuses(file.url, clients)).toEqual({
			anonymous: 404,
			nonMember: 404,
			owner: 200,
			uploader: 404,
			member: 200,
			banned: 404
		});

		// A revalidation is a request like any other: the removed member's cached copy is not
		// confirmed (no 304 without access).
		const revalidation = await clients.uploader.download(file.url, {
			headers: { 'if-none-match': `"${file.id}"` }
		});
		expect(revalidation.status).toBe(404);
	});

	it('removed and banned members cannot upload either', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const roomId = await seedRoom(alice, bob);
		const client = await FileClient.as(bob);
		await db().insert(roomBans).values({ roomId, userId: bob.id, createdAt: Date.now() });
		const response = await client.upload(roomId, PNG, 'a.png');
		expect(response.status).toBe(404);
	});
});

describe('downloading a file of a public room', () => {
	it('follows the history rule: members read it, people who have not joined do not', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const erin = await seedUser('erin');
		const room = await createRoom(db(), { kind: 'public', name: 'Lobby', createdBy: alice.id });
		await grantMembership(db(), room.id, bob.id);
		const file = await (await FileClient.as(alice)).stored(room.id, WEBM, 'clip.webm');
		expect(
			await statuses(file.url, {
				anonymous: FileClient.anonymous(),
				notJoined: await FileClient.as(erin),
				member: await FileClient.as(bob)
			})
		).toEqual({ anonymous: 404, notJoined: 404, member: 200 });
		// An outsider cannot upload into a public room they have not joined.
		expect((await (await FileClient.as(erin)).upload(room.id, PNG, 'a.png')).status).toBe(404);
	});
});

describe('downloading a file of a direct conversation', () => {
	async function conversation(): Promise<{ alice: Person; frank: Person; roomId: string }> {
		const alice = await seedUser('alice');
		const frank = await seedUser('frank');
		await befriend(alice, frank);
		const opened = await findOrCreateDirectRoom(db(), alice.id, frank.id);
		if (!opened.ok) throw new Error(opened.message);
		return { alice, frank, roomId: opened.roomId };
	}

	it('ends for both people once one blocks the other, as the conversation does', async () => {
		const { alice, frank, roomId } = await conversation();
		const file = await (await FileClient.as(frank)).stored(roomId, PNG, 'a.png');
		const clients = {
			alice: await FileClient.as(alice),
			frank: await FileClient.as(frank),
			stranger: await FileClient.as(await seedUser('gus'))
		};
		expect(await statuses(file.url, clients)).toEqual({ alice: 200, frank: 200, stranger: 404 });
		await block(alice, frank);
		expect(await statuses(file.url, clients)).toEqual({ alice: 404, frank: 404, stranger: 404 });
		expect((await clients.frank.upload(roomId, PNG, 'b.png')).status).toBe(404);
	});
});

describe('a deleted room', () => {
	it('keeps its files’ rows for the cleanup job, and serves them to nobody', async () => {
		const alice = await seedUser('alice');
		const roomId = await seedRoom(alice);
		const client = await FileClient.as(alice);
		const file = await client.stored(roomId, PNG, 'a.png');
		await db().delete(rooms).where(eq(rooms.id, roomId));
		expect((await client.download(file.url)).status).toBe(404);
		const [row] = await db().select().from(files).where(eq(files.id, file.id));
		expect(row).toMatchObject({ id: file.id, roomId: null });
	});
});
