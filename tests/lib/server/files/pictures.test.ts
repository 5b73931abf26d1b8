// Profile pictures and room icons: stored like files (type from the bytes, R2 then D1), named by
// `users.avatar_key` / `rooms.icon_key` in the same step, and served only while current, to whoever
// may see the person (not someone they blocked) or the room (its members; anyone for a public one).
import type { RequestEvent } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { PICTURE_MAX_BYTES } from '$lib/server/files/pictures';
import { listAudit } from '$lib/server/moderation/audit';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { files, roomBans, rooms, users } from '$shared/db/schema';
import * as avatarRoute from '../../../../src/routes/api/me/avatar/+server';
import * as iconRoute from '../../../../src/routes/api/rooms/[id]/icon/+server';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';
import { befriend, block, sessionFor } from '../../../support/people';
import { FileClient, GIF, JPEG, PDF, PNG, SVG, SVG_XML, callRoute, snapshot } from './support';

type Handler = (event: RequestEvent) => Response | Promise<Response>;

/** Calls a picture route as SvelteKit would, as `person` (with a real session) or anonymously. */
async function call(
	handler: Handler,
	person: Person | null,
	options: { method: 'POST' | 'DELETE'; params?: Record<string, string>; body?: Uint8Array }
): Promise<Response> {
	const token = person ? await sessionFor(person) : null;
	const { params = {}, ...rest } = options;
	return callRoute(handler, token, '/api/picture', params, rest);
}

const setAvatar = (person: Person | null, body: Uint8Array) =>
	call(avatarRoute.POST as Handler, person, { method: 'POST', body });
const removeAvatar = (person: Person | null) =>
	call(avatarRoute.DELETE as Handler, person, { method: 'DELETE' });
const setIcon = (person: Person | null, roomId: string, body: Uint8Array) =>
	call(iconRoute.POST as Handler, person, { method: 'POST', body, params: { id: roomId } });
const removeIcon = (person: Person | null, roomId: string) =>
	call(iconRoute.DELETE as Handler, person, { method: 'DELETE', params: { id: roomId } });

/** A picture that must be accepted: its URL. */
async function urlOf(response: Promise<Response>): Promise<string> {
	const answer = await response;
	if (answer.status !== 201) throw new Error(`refused: ${answer.status} ${await answer.text()}`);
	return ((await answer.json()) as { url: string }).url;
}

/** Each viewer's status for `url`, reading every body to the end. */
async function statuses(url: string, viewers: Record<string, Person | null>) {
	const out: Record<string, number> = {};
	for (const [who, person] of Object.entries(viewers)) {
		const client = person ? await FileClient.as(person) : FileClient.anonymous();
		const response = await client.download(url);
		await response.arrayBuffer();
		out[who] = response.status;
	}
	return out;
}

async function avatarKeyOf(person: Person) {
	const [row] = await db()
		.select({ key: users.avatarKey })
		.from(users)
		.where(eq(users.id, person.id));
	return row?.key ?? null;
}

async function iconKeyOf(roomId: string) {
	const [row] = await db().select({ key: rooms.iconKey }).from(rooms).where(eq(rooms.id, roomId));
	return row?.key ?? null;
}

const idOf = (url: string) => url.split('/').pop()!;

describe('a profile picture', () => {
	it('is stored as the person’s picture, replaced and removed, only the current one served', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');

		const first = await urlOf(setAvatar(alice, PNG));
		expect(first).toMatch(/^\/files\/[\w-]+$/);
		expect(await avatarKeyOf(alice)).toBe(idOf(first));
		const [row] = await db()
			.select()
			.from(files)
			.where(eq(files.id, idOf(first)));
		expect(row).toMatchObject({ purpose: 'avatar', roomId: null, type: 'image/png' });
		// Anyone signed in may see a person who has not blocked them; no one anonymous.
		expect(await statuses(first, { alice, bob, anonymous: null })).toEqual({
			alice: 200,
			bob: 200,
			anonymous: 404
		});
		const served = await (await FileClient.as(bob)).download(first);
		expect(served.headers.get('content-type')).toBe('image/png');
		expect(served.headers.get('x-content-type-options')).toBe('nosniff');
		expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);

		// Replacing it: the old one is gone at once, the new one served.
		const second = await urlOf(setAvatar(alice, JPEG));
		expect(second).not.toBe(first);
		expect(await avatarKeyOf(alice)).toBe(idOf(second));
		expect(await statuses(first, { alice, bob })).toEqual({ alice: 404, bob: 404 });
		expect(await statuses(second, { alice, bob })).toEqual({ alice: 200, bob: 200 });

		// Removing it: initials again, and nothing served.
		expect((await removeAvatar(alice)).status).toBe(204);
		expect(await avatarKeyOf(alice)).toBeNull();
		expect(await statuses(second, { alice, bob })).toEqual({ alice: 404, bob: 404 });
	});

	it('must be a JPEG, PNG or WebP image, decided from the bytes; a refusal changes nothing', async () => {
		const alice = await seedUser('alice');
		const current = await urlOf(setAvatar(alice, PNG));
		const before = await snapshot();
		for (const [body, status] of [
			[PDF, 415],
			[SVG, 415],
			[SVG_XML, 415],
			[GIF, 415],
			[new Uint8Array(0), 400],
			[new Uint8Array(PICTURE_MAX_BYTES + 1).fill(7), 413]
		] as const) {
			const response = await setAvatar(alice, body);
			expect(response.status).toBe(status);
			expect(((await response.json()) as { message: string }).message).toBeTruthy();
		}
		const svg = (await (await setAvatar(alice, SVG)).json()) as { code: string; message: string };
		expect(svg).toEqual({
			code: 'unsupported_type',
			message: 'A picture must be a JPEG, PNG or WebP image.'
		});
		expect(await snapshot()).toEqual(before);
		expect(await avatarKeyOf(alice)).toBe(idOf(current));
		expect((await setAvatar(null, PNG)).status).toBe(401);
	});

	it('is not shown to someone its owner blocked; the blocker still sees theirs', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		await befriend(alice, bob);
		const alices = await urlOf(setAvatar(alice, PNG));
		const bobs = await urlOf(setAvatar(bob, PNG));
		await block(alice, bob);
		expect(await statuses(alices, { alice, bob })).toEqual({ alice: 200, bob: 404 });
		expect(await statuses(bobs, { alice, bob })).toEqual({ alice: 200, bob: 200 });
	});
});

describe('a room icon', () => {
	it('is set by the room’s admins only, and shown to its members only for a private group', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const dave = await seedUser('dave');
		const roomId = await seedRoom(alice, bob, dave);

		const before = await snapshot();
		const refused = await setIcon(bob, roomId, PNG);
		expect(refused.status).toBe(403);
		expect(await refused.json()).toEqual({
			code: 'forbidden',
			message: 'Only admins can do that.'
		});
		expect((await setIcon(carol, roomId, PNG)).status).toBe(404);
		expect((await setIcon(alice, roomId, SVG)).status).toBe(415);
		expect(await snapshot()).toEqual(before);
		expect(await iconKeyOf(roomId)).toBeNull();

		const icon = await urlOf(setIcon(alice, roomId, PNG));
		expect(await iconKeyOf(roomId)).toBe(idOf(icon));
		const [row] = await db()
			.select()
			.from(files)
			.where(eq(files.id, idOf(icon)));
		expect(row).toMatchObject({ purpose: 'icon', roomId });

		await db().insert(roomBans).values({ roomId, userId: dave.id, createdAt: Date.now() });
		expect(
			await statuses(icon, { alice, bob, outsider: carol, banned: dave, anonymous: null })
		).toEqual({ alice: 200, bob: 200, outsider: 404, banned: 404, anonymous: 404 });

		// A member cannot remove it either; the owner can, and it stops being served at once.
		expect((await removeIcon(bob, roomId)).status).toBe(403);
		expect(await iconKeyOf(roomId)).toBe(idOf(icon));
		const replaced = await urlOf(setIcon(alice, roomId, JPEG));
		expect(await statuses(icon, { alice, bob })).toEqual({ alice: 404, bob: 404 });
		expect(await statuses(replaced, { alice, bob })).toEqual({ alice: 200, bob: 200 });
		expect((await removeIcon(alice, roomId)).status).toBe(204);
		expect(await iconKeyOf(roomId)).toBeNull();
		expect(await statuses(replaced, { alice, bob })).toEqual({ alice: 404, bob: 404 });
		// Each change, and no refusal, is in the room's audit log.
		const { entries } = await listAudit(db(), { roomId });
		expect(entries.map((e) => [e.actorId, e.action]).reverse()).toEqual([
			[alice.id, 'room.icon_set'],
			[alice.id, 'room.icon_set'],
			[alice.id, 'room.icon_remove']
		]);
	});

	it('of a public room is shown to anyone who may find the room, not to its banned', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		const carol = await seedUser('carol');
		const room = await createRoom(db(), { kind: 'public', name: 'Lobby', createdBy: alice.id });
		await grantMembership(db(), room.id, bob.id);
		const icon = await urlOf(setIcon(alice, room.id, PNG));
		await db().insert(roomBans).values({ roomId: room.id, userId: bob.id, createdAt: Date.now() });
		expect(await statuses(icon, { alice, passerby: carol, banned: bob, anonymous: null })).toEqual({
			alice: 200,
			passerby: 200,
			banned: 404,
			anonymous: 404
		});
	});

	it('does not exist for a direct room', async () => {
		const alice = await seedUser('alice');
		const bob = await seedUser('bob');
		await befriend(alice, bob);
		const direct = await findOrCreateDirectRoom(db(), alice.id, bob.id);
		if (!direct.ok) throw new Error(direct.message);
		const before = await snapshot();
		const response = await setIcon(alice, direct.roomId, PNG);
		expect(response.status).toBe(400);
		expect(((await response.json()) as { code: string }).code).toBe('direct_room');
		expect(await snapshot()).toEqual(before);
	});
});
