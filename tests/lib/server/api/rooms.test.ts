// Rooms, members and invites through the API: each route does what its page's action does, for
// the same people (owner, admin, member, stranger, banned) in the same kinds of room, refuses
// the same others with the same answer, and a refusal changes nothing.
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { and, eq, inArray } from 'drizzle-orm';
import {
	BanList,
	CreatedInvite,
	InviteList,
	InvitePreview,
	MemberList,
	RoomAnswer
} from '$lib/server/api/room-schemas';
import { pairOf } from '$lib/server/rooms/authz';
import { directKeyOf } from '$lib/server/rooms/direct-rooms';
import { createRoom, grantMembership } from '$lib/server/rooms/rooms';
import { generateSecretToken, hashSecret } from '$lib/server/ids';
import {
	blocks,
	friendships,
	memberships,
	roomBans,
	roomInvites,
	rooms,
	users
} from '$shared/db/schema';
import * as roomList from '../../../../src/routes/api/v1/rooms/+server';
import * as roomRoute from '../../../../src/routes/api/v1/rooms/[id]/+server';
import * as settingsRoute from '../../../../src/routes/api/v1/rooms/[id]/settings/+server';
import * as joinRoute from '../../../../src/routes/api/v1/rooms/[id]/join/+server';
import * as leaveRoute from '../../../../src/routes/api/v1/rooms/[id]/leave/+server';
import * as membersRoute from '../../../../src/routes/api/v1/rooms/[id]/members/+server';
import * as memberRoute from '../../../../src/routes/api/v1/rooms/[id]/members/[userId]/+server';
import * as transferRoute from '../../../../src/routes/api/v1/rooms/[id]/transfer/+server';
import * as bansRoute from '../../../../src/routes/api/v1/rooms/[id]/bans/+server';
import * as banRoute from '../../../../src/routes/api/v1/rooms/[id]/bans/[userId]/+server';
import * as invitesRoute from '../../../../src/routes/api/v1/rooms/[id]/invites/+server';
import * as inviteRoute from '../../../../src/routes/api/v1/rooms/[id]/invites/[inviteId]/+server';
import * as codeRoute from '../../../../src/routes/api/v1/invites/[code]/+server';
import * as redeemRoute from '../../../../src/routes/api/v1/invites/[code]/redeem/+server';
import {
	addMembers,
	connect,
	db,
	roomState,
	roomStub,
	seedRoom,
	seedUser,
	type Person
} from '../../../helpers';
import { tokenFor, type Answer, type TokenClient } from './support';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Handler = Parameters<TokenClient['call']>[0];
/** One request: the handler SvelteKit would pick for it, and what it carries. */
type Request = {
	handler: Handler;
	method: Method;
	path: string;
	params: Record<string, string>;
	json?: unknown;
};

const room = `/api/v1/rooms`;
const api = {
	create: (json: unknown): Request => ({
		handler: roomList.POST,
		method: 'POST',
		path: room,
		params: {},
		json
	}),
	get: (id: string): Request => ({
		handler: roomRoute.GET,
		method: 'GET',
		path: `${room}/${id}`,
		params: { id }
	}),
	edit: (id: string, json: unknown): Request => ({
		handler: roomRoute.PATCH,
		method: 'PATCH',
		path: `${room}/${id}`,
		params: { id },
		json
	}),
	remove: (id: string): Request => ({
		handler: roomRoute.DELETE,
		method: 'DELETE',
		path: `${room}/${id}`,
		params: { id }
	}),
	settings: (id: string, json: unknown): Request => ({
		handler: settingsRoute.PATCH,
		method: 'PATCH',
		path: `${room}/${id}/settings`,
		params: { id },
		json
	}),
	join: (id: string): Request => ({
		handler: joinRoute.POST,
		method: 'POST',
		path: `${room}/${id}/join`,
		params: { id }
	}),
	leave: (id: string): Request => ({
		handler: leaveRoute.POST,
		method: 'POST',
		path: `${room}/${id}/leave`,
		params: { id }
	}),
	members: (id: string, query = ''): Request => ({
		handler: membersRoute.GET,
		method: 'GET',
		path: `${room}/${id}/members${query}`,
		params: { id }
	}),
	add: (id: string, username: unknown): Request => ({
		handler: membersRoute.POST,
		method: 'POST',
		path: `${room}/${id}/members`,
		params: { id },
		json: { username }
	}),
	kick: (id: string, userId: string): Request => ({
		handler: memberRoute.DELETE,
		method: 'DELETE',
		path: `${room}/${id}/members/${userId}`,
		params: { id, userId }
	}),
	role: (id: string, userId: string, role: unknown): Request => ({
		handler: memberRoute.PATCH,
		method: 'PATCH',
		path: `${room}/${id}/members/${userId}`,
		params: { id, userId },
		json: { role }
	}),
	transfer: (id: string, userId: string): Request => ({
		handler: transferRoute.POST,
		method: 'POST',
		path: `${room}/${id}/transfer`,
		params: { id },
		json: { userId }
	}),
	bans: (id: string, query = ''): Request => ({
		handler: bansRoute.GET,
		method: 'GET',
		path: `${room}/${id}/bans${query}`,
		params: { id }
	}),
	ban: (id: string, userId: string): Request => ({
		handler: banRoute.PUT,
		method: 'PUT',
		path: `${room}/${id}/bans/${userId}`,
		params: { id, userId }
	}),
	unban: (id: string, userId: string): Request => ({
		handler: banRoute.DELETE,
		method: 'DELETE',
		path: `${room}/${id}/bans/${userId}`,
		params: { id, userId }
	}),
	invites: (id: string): Request => ({
		handler: invitesRoute.GET,
		method: 'GET',
		path: `${room}/${id}/invites`,
		params: { id }
	}),
	invite: (id: string, json: unknown = { lifetime: '1d' }): Request => ({
		handler: invitesRoute.POST,
		method: 'POST',
		path: `${room}/${id}/invites`,
		params: { id },
		json
	}),
	revoke: (id: string, inviteId: string): Request => ({
		handler: inviteRoute.DELETE,
		method: 'DELETE',
		path: `${room}/${id}/invites/${inviteId}`,
		params: { id, inviteId }
	}),
	preview: (code: string): Request => ({
		handler: codeRoute.GET,
		method: 'GET',
		path: `/api/v1/invites/${code}`,
		params: { code }
	}),
	redeem: (code: string): Request => ({
		handler: redeemRoute.POST,
		method: 'POST',
		path: `/api/v1/invites/${code}/redeem`,
		params: { code }
	})
};

function send(client: TokenClient, request: Request): Promise<Answer> {
	const { handler, ...call } = request;
	return client.call(handler, call);
}

/** The answer's status and error code, to compare in one expectation. */
const verdict = (answer: Answer) => [answer.status, answer.body?.error?.code ?? null];

// ---- The world ----

async function befriend(a: Person, b: Person) {
	await db()
		.insert(friendships)
		.values({
			...pairOf(a.id, b.id),
			status: 'accepted',
			requestedBy: a.id,
			createdAt: Date.now()
		});
}

async function banFrom(roomId: string, person: Person) {
	await db().insert(roomBans).values({ roomId, userId: person.id, createdAt: Date.now() });
}

async function publicRoom(owner: Person, ...members: Person[]) {
	const made = await createRoom(db(), { kind: 'public', name: 'Lobby', createdBy: owner.id });
	for (const member of members) await grantMembership(db(), made.id, member.id);
	return made.id;
}

async function directRoom(a: Person, b: Person) {
	const id = `d${Math.random().toString(36).slice(2, 12)}`;
	const now = Date.now();
	await db().batch([
		db()
			.insert(rooms)
			.values({
				id,
				kind: 'direct',
				name: '',
				directKey: directKeyOf(a.id, b.id),
				createdBy: a.id,
				createdAt: now,
				memberCount: 2
			}),
		db()
			.insert(memberships)
			.values([
				{ roomId: id, userId: a.id, role: 'member', joinedAt: now },
				{ roomId: id, userId: b.id, role: 'member', joinedAt: now }
			])
	]);
	return id;
}

const ROLES = ['owner', 'admin', 'member', 'stranger', 'banned'] as const;
type RoleName = (typeof ROLES)[number];

let worlds = 0;

/**
 * A group: Olive owns it, Adam is an admin, Mia and Gus are members, Bart is banned, Sam is not
 * in it. Pal is everyone's friend (someone to add), and there is a working invite link. Written
 * in two batches: the table below builds dozens of these.
 */
async function group() {
	const tag = `${++worlds}${Math.random().toString(36).slice(2, 8)}`;
	const names = ['olive', 'adam', 'mia', 'gus', 'sam', 'bart', 'pal'] as const;
	const [owner, admin, member, gus, stranger, banned, pal] = names.map((n) => ({
		id: `${n}${tag}`,
		name: n[0]!.toUpperCase() + n.slice(1),
		username: `${n}${tag}`
	})) as [Person, Person, Person, Person, Person, Person, Person];
	const now = Date.now();
	const roomId = `g${tag}`;
	const code = generateSecretToken();
	const seat = (person: Person, role: 'owner' | 'admin' | 'member') => ({
		roomId,
		userId: person.id,
		role,
		joinedAt: now
	});
	// One statement per person: D1 binds at most 100 values to one.
	const [first, ...rest] = [owner, admin, member, gus, stranger, banned, pal].map((p) =>
		db()
			.insert(users)
			.values({
				id: p.id,
				email: `${p.id}@example.test`,
				username: p.username,
				usernameKey: p.username,
				displayName: p.name,
				createdAt: now
			})
	);
	await db().batch([first!, ...rest]);
	await db().batch([
		db().insert(rooms).values({
			id: roomId,
			kind: 'group',
			name: 'Test room',
			createdBy: owner.id,
			createdAt: now,
			memberCount: 4
		}),
		db()
			.insert(memberships)
			.values([
				seat(owner, 'owner'),
				seat(admin, 'admin'),
				seat(member, 'member'),
				seat(gus, 'member')
			]),
		db().insert(roomBans).values({ roomId, userId: banned.id, createdAt: now }),
		db()
			.insert(friendships)
			.values(
				[owner, admin, member, stranger, banned].map((p) => ({
					...pairOf(p.id, pal.id),
					status: 'accepted' as const,
					requestedBy: p.id,
					createdAt: now
				}))
			),
		db()
			.insert(roomInvites)
			.values({ id: hashSecret(code), roomId, createdBy: owner.id, createdAt: now })
	]);
	const people: Record<RoleName, Person> = { owner, admin, member, stranger, banned };
	return { roomId, people, gus, pal, code };
}
type Group = Awaited<ReturnType<typeof group>>;

async function roleOf(roomId: string, person: { id: string }) {
	const [row] = await db()
		.select({ role: memberships.role })
		.from(memberships)
		.where(and(eq(memberships.roomId, roomId), eq(memberships.userId, person.id)));
	return row?.role ?? null;
}

async function isBanned(roomId: string, person: { id: string }) {
	const rows = await db()
		.select()
		.from(roomBans)
		.where(and(eq(roomBans.roomId, roomId), eq(roomBans.userId, person.id)));
	return rows.length > 0;
}

// ---- Who may do what ----

type Expected = number | [number, string];
type Row = {
	name: string;
	request: (w: Group) => Request;
	expect: Record<RoleName, Expected>;
	/** Whether an allowed call changes the room in D1. */
	changes: boolean;
};

const ROWS: Row[] = [
	{
		name: 'GET /rooms/{id}',
		request: (w) => api.get(w.roomId),
		expect: {
			owner: 200,
			admin: 200,
			member: 200,
			stranger: [404, 'not_found'],
			banned: [403, 'banned']
		},
		changes: false
	},
	{
		name: 'PATCH /rooms/{id}',
		request: (w) => api.edit(w.roomId, { name: 'Renamed' }),
		expect: { owner: 200, admin: 200, member: [403, 'forbidden'], stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'DELETE /rooms/{id}',
		request: (w) => api.remove(w.roomId),
		expect: { owner: 204, admin: [403, 'forbidden'], member: 403, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'PATCH /rooms/{id}/settings',
		request: (w) => api.settings(w.roomId, { notify: 'mute' }),
		expect: { owner: 200, admin: 200, member: 200, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'POST /rooms/{id}/join (a group)',
		request: (w) => api.join(w.roomId),
		expect: {
			owner: 200,
			admin: 200,
			member: 200,
			stranger: [403, 'invite_only'],
			banned: [403, 'banned']
		},
		changes: false
	},
	{
		name: 'POST /rooms/{id}/leave',
		request: (w) => api.leave(w.roomId),
		expect: { owner: [409, 'last_owner'], admin: 204, member: 204, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'GET /rooms/{id}/members',
		request: (w) => api.members(w.roomId),
		expect: { owner: 200, admin: 200, member: 200, stranger: 404, banned: 403 },
		changes: false
	},
	{
		name: 'POST /rooms/{id}/members',
		request: (w) => api.add(w.roomId, w.pal.username),
		expect: { owner: 204, admin: 204, member: [403, 'forbidden'], stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'DELETE /rooms/{id}/members/{userId}',
		request: (w) => api.kick(w.roomId, w.gus.id),
		expect: { owner: 204, admin: 204, member: 403, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'PATCH /rooms/{id}/members/{userId}',
		request: (w) => api.role(w.roomId, w.gus.id, 'admin'),
		expect: { owner: 204, admin: 204, member: 403, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'POST /rooms/{id}/transfer',
		request: (w) => api.transfer(w.roomId, w.gus.id),
		expect: { owner: 204, admin: [403, 'forbidden'], member: 403, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'GET /rooms/{id}/bans',
		request: (w) => api.bans(w.roomId),
		expect: { owner: 200, admin: 200, member: 403, stranger: 404, banned: 403 },
		changes: false
	},
	{
		name: 'PUT /rooms/{id}/bans/{userId}',
		request: (w) => api.ban(w.roomId, w.gus.id),
		expect: { owner: 204, admin: 204, member: 403, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'DELETE /rooms/{id}/bans/{userId}',
		request: (w) => api.unban(w.roomId, w.people.banned.id),
		expect: { owner: 204, admin: 204, member: 403, stranger: 404, banned: [403, 'banned'] },
		changes: true
	},
	{
		name: 'GET /rooms/{id}/invites',
		request: (w) => api.invites(w.roomId),
		expect: { owner: 200, admin: 200, member: 403, stranger: 404, banned: 403 },
		changes: false
	},
	{
		name: 'POST /rooms/{id}/invites',
		request: (w) => api.invite(w.roomId, { lifetime: '7d', maxUses: 5 }),
		expect: { owner: 201, admin: 201, member: 403, stranger: 404, banned: 403 },
		changes: true
	},
	{
		name: 'DELETE /rooms/{id}/invites/{inviteId}',
		request: (w) => api.revoke(w.roomId, hashSecret(w.code)),
		expect: { owner: 204, admin: 204, member: 403, stranger: 404, banned: 403 },
		changes: true
	}
];

// Every row in groups of its own, so the rows are asked at once too.
describe.concurrent('who may do what in a group', () => {
	for (const row of ROWS) {
		it(row.name, async ({ expect }) => {
			// A group of its own for each person, so what one did cannot change what the next meets;
			// being apart, they are asked at once.
			await Promise.all(
				ROLES.map(async (role) => {
					const w = await group();
					const client = await tokenFor(w.people[role]);
					const before = await roomState(w.roomId);
					const answer = await send(client, row.request(w));
					const expected = row.expect[role];
					const [status, code] = typeof expected === 'number' ? [expected, null] : expected;
					const where = `${row.name} as ${role}`;
					expect(answer.status, where).toBe(status);
					const after = await roomState(w.roomId);
					if (status >= 400) {
						expect(answer.body.error.message, where).toMatch(/\w{3}/);
						if (code) expect(answer.body.error.code, where).toBe(code);
						expect(after, `${where}: refused, so nothing may change`).toBe(before);
					} else if (row.changes) {
						expect(after, `${where}: allowed, so the change must be made`).not.toBe(before);
					}
				})
			);
		});
	}
});

// ---- Rooms ----

describe('creating a room', () => {
	it('creates a group with friends added by username, owned by its creator', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		await befriend(ana, bob);
		const client = await tokenFor(ana);
		const made = await send(
			client,
			api.create({
				kind: 'group',
				name: '  Book club ',
				description: 'Monthly',
				members: [`@${bob.username.toUpperCase()}`]
			})
		);
		expect(made.status).toBe(201);
		expect(v.is(RoomAnswer, made.body)).toBe(true);
		expect(made.body.room).toMatchObject({
			kind: 'group',
			name: 'Book club',
			description: 'Monthly',
			memberCount: 2,
			icon: null,
			membership: { role: 'owner', notify: 'all', pinned: false, archived: false }
		});
		const members = await send(client, api.members(made.body.room.id));
		expect(members.body.members.map((m: { id: string }) => m.id).sort()).toEqual(
			[ana.id, bob.id].sort()
		);
		// It is in the creator's list, and in the added friend's.
		const listed = await send(await tokenFor(bob), {
			handler: roomList.GET,
			method: 'GET',
			path: room,
			params: {}
		});
		expect(listed.body.rooms.map((r: { id: string }) => r.id)).toContain(made.body.room.id);
	});

	it('creates a public room anyone may join', async () => {
		const ana = await seedUser('ana');
		const made = await send(await tokenFor(ana), api.create({ kind: 'public', name: 'Lobby' }));
		expect(made.status).toBe(201);
		expect(made.body.room).toMatchObject({ kind: 'public', name: 'Lobby', description: '' });
		const eve = await seedUser('eve');
		const joined = await send(await tokenFor(eve), api.join(made.body.room.id));
		expect(joined.body.room.membership.role).toBe('member');
	});

	it('refuses bad input, strangers as members and read-only or room-limited tokens, creating nothing', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const client = await tokenFor(ana);
		const cases: [unknown, number, string, string?][] = [
			[{ name: 'No kind' }, 400, 'bad_input', 'kind'],
			[{ kind: 'direct', name: 'Nope' }, 400, 'bad_input', 'kind'],
			[{ kind: 'group', name: '   ' }, 400, 'bad_input', 'name'],
			[{ kind: 'group', name: 'x'.repeat(81) }, 400, 'bad_input', 'name'],
			[
				{ kind: 'group', name: 'ok', description: 'x'.repeat(501) },
				400,
				'bad_input',
				'description'
			],
			[{ kind: 'group', name: 'ok', members: 'bob' }, 400, 'bad_input', 'members'],
			[
				{ kind: 'group', name: 'ok', members: ['no spaces allowed'] },
				400,
				'bad_input',
				'members.0'
			],
			[
				{ kind: 'group', name: 'ok', members: Array.from({ length: 51 }, (_, i) => `user${i}`) },
				400,
				'bad_input',
				'members'
			],
			[{ kind: 'public', name: 'ok', members: [bob.username] }, 400, 'bad_input', 'members'],
			// Not a friend, and nobody at all: the same answer.
			[{ kind: 'group', name: 'ok', members: [bob.username] }, 403, 'not_friends'],
			[{ kind: 'group', name: 'ok', members: ['nobody_here'] }, 403, 'not_friends']
		];
		for (const [json, status, code, path] of cases) {
			const answer = await send(client, api.create(json));
			expect(verdict(answer), JSON.stringify(json).slice(0, 80)).toEqual([status, code]);
			if (path) expect(answer.body.error.details).toContainEqual(expect.objectContaining({ path }));
		}
		const reader = await tokenFor(ana, { scope: 'read' });
		expect(verdict(await send(reader, api.create({ kind: 'public', name: 'x' })))).toEqual([
			403,
			'insufficient_scope'
		]);
		const own = await seedRoom(ana);
		const limited = await tokenFor(ana, { rooms: [own] });
		expect(verdict(await send(limited, api.create({ kind: 'public', name: 'x' })))).toEqual([
			403,
			'token_rooms'
		]);
		const made = await db().select().from(rooms).where(eq(rooms.createdBy, ana.id));
		expect(made.map((r) => r.id)).toEqual([own]);
	});
});

describe('a room', () => {
	it('is shown to a member with their membership, and to a public room’s visitor without', async () => {
		const ana = await seedUser('ana');
		const eve = await seedUser('eve');
		const lobby = await publicRoom(ana);
		await db()
			.update(rooms)
			.set({ description: 'Say hi', iconKey: 'icon1' })
			.where(eq(rooms.id, lobby));
		const mine = await send(await tokenFor(ana, { scope: 'read' }), api.get(lobby));
		expect(mine.status).toBe(200);
		expect(v.is(RoomAnswer, mine.body)).toBe(true);
		expect(mine.body.room).toMatchObject({
			id: lobby,
			kind: 'public',
			name: 'Lobby',
			description: 'Say hi',
			memberCount: 1,
			icon: expect.stringContaining('icon1'),
			membership: { role: 'owner' }
		});
		const visitor = await send(await tokenFor(eve), api.get(lobby));
		expect(visitor.status).toBe(200);
		expect(visitor.body.room.membership).toBeNull();
	});

	it('is named after the other person when direct, and closed by a block', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const direct = await directRoom(ana, bob);
		const seen = await send(await tokenFor(ana), api.get(direct));
		expect(seen.body.room).toMatchObject({ kind: 'direct', name: 'Bob', icon: null });
		await db()
			.insert(blocks)
			.values({ blockerId: bob.id, blockedId: ana.id, createdAt: Date.now() });
		expect(verdict(await send(await tokenFor(ana), api.get(direct)))).toEqual([403, 'blocked']);
		expect(verdict(await send(await tokenFor(bob), api.get(direct)))).toEqual([403, 'blocked']);
	});

	it('renames and describes in part, tells the timeline, and refuses bad input', async () => {
		const w = await group();
		const admin = await tokenFor(w.people.admin);
		const renamed = await send(admin, api.edit(w.roomId, { name: 'Readers' }));
		expect(renamed.status).toBe(200);
		expect(v.is(RoomAnswer, renamed.body)).toBe(true);
		expect(renamed.body.room).toMatchObject({ name: 'Readers', description: '' });
		const described = await send(admin, api.edit(w.roomId, { description: ' Books ' }));
		expect(described.body.room).toMatchObject({ name: 'Readers', description: 'Books' });
		expect(await roomStub(w.roomId).lastSeq()).toBe(2);

		const before = await roomState(w.roomId);
		for (const [json, path] of [
			[{}, ''],
			[{ name: '' }, 'name'],
			[{ name: 'x'.repeat(81) }, 'name'],
			[{ description: 'x'.repeat(501) }, 'description'],
			[{ name: 7 }, 'name']
		] as const) {
			const answer = await send(admin, api.edit(w.roomId, json));
			expect(verdict(answer), JSON.stringify(json)).toEqual([400, 'bad_input']);
			expect(answer.body.error.details).toContainEqual(expect.objectContaining({ path }));
		}
		expect(await roomState(w.roomId)).toBe(before);
	});

	it('is deleted by its owner: gone for everyone, their sockets closed', async () => {
		const w = await group();
		const member = await connect(w.roomId, w.people.member, 0);
		const deleted = await send(await tokenFor(w.people.owner), api.remove(w.roomId));
		expect(deleted.status).toBe(204);
		expect(deleted.body).toBeNull();
		await member.until(() => member.closed);
		expect(verdict(await send(await tokenFor(w.people.member), api.get(w.roomId)))).toEqual([
			404,
			'not_found'
		]);
	});

	it('keeps my own settings, changing only what is given', async () => {
		const w = await group();
		const mia = await tokenFor(w.people.member);
		const muted = await send(mia, api.settings(w.roomId, { notify: 'mentions', pinned: true }));
		expect(muted.status).toBe(200);
		expect(muted.body.room.membership).toEqual({
			role: 'member',
			notify: 'mentions',
			pinned: true,
			archived: false
		});
		const archived = await send(mia, api.settings(w.roomId, { archived: true }));
		expect(archived.body.room.membership).toMatchObject({
			notify: 'mentions',
			pinned: true,
			archived: true
		});
		// Mine alone: the owner's are as they were.
		const owners = await send(await tokenFor(w.people.owner), api.get(w.roomId));
		expect(owners.body.room.membership).toMatchObject({ notify: 'all', pinned: false });

		const before = await roomState(w.roomId);
		for (const [json, path] of [
			[{}, ''],
			[{ notify: 'loud' }, 'notify'],
			[{ pinned: 'yes' }, 'pinned']
		] as const) {
			const answer = await send(mia, api.settings(w.roomId, json));
			expect(verdict(answer), JSON.stringify(json)).toEqual([400, 'bad_input']);
			expect(answer.body.error.details).toContainEqual(expect.objectContaining({ path }));
		}
		expect(await roomState(w.roomId)).toBe(before);
	});
});

describe('public and direct rooms', () => {
	it('a public room: anyone joins and leaves; a visitor only sees it; a banned person is refused', async () => {
		const ana = await seedUser('ana');
		const eve = await seedUser('eve');
		const dan = await seedUser('dan');
		const lobby = await publicRoom(ana);
		await banFrom(lobby, dan);
		const eves = await tokenFor(eve);
		for (const request of [
			api.members(lobby),
			api.settings(lobby, { pinned: true }),
			api.edit(lobby, { name: 'Mine now' }),
			api.invite(lobby),
			api.leave(lobby)
		]) {
			expect(verdict(await send(eves, request)), request.path).toEqual([403, 'not_member']);
		}
		const joined = await send(eves, api.join(lobby));
		expect(joined.status).toBe(200);
		expect(joined.body.room).toMatchObject({ memberCount: 2, membership: { role: 'member' } });
		// Joining again changes nothing.
		expect((await send(eves, api.join(lobby))).body.room.memberCount).toBe(2);
		const socket = await connect(lobby, eve, 0);
		expect((await send(eves, api.leave(lobby))).status).toBe(204);
		await socket.until(() => socket.closed);
		expect(socket.closed?.code).toBe(4003);
		expect((await send(eves, api.get(lobby))).body.room).toMatchObject({
			memberCount: 1,
			membership: null
		});
		const before = await roomState(lobby);
		const dans = await tokenFor(dan);
		expect(verdict(await send(dans, api.join(lobby)))).toEqual([403, 'banned']);
		expect(verdict(await send(dans, api.get(lobby)))).toEqual([403, 'banned']);
		expect(await roomState(lobby)).toBe(before);
	});

	it('a direct room has no members to manage, no links, no owner, and cannot be left', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const pal = await seedUser('pal');
		await befriend(ana, pal);
		const direct = await directRoom(ana, bob);
		const anas = await tokenFor(ana);
		const before = await roomState(direct);
		for (const request of [
			api.edit(direct, { name: 'Us' }),
			api.remove(direct),
			api.leave(direct),
			api.add(direct, pal.username),
			api.kick(direct, bob.id),
			api.role(direct, bob.id, 'admin'),
			api.transfer(direct, bob.id),
			api.bans(direct),
			api.ban(direct, bob.id),
			api.invites(direct),
			api.invite(direct)
		]) {
			expect(verdict(await send(anas, request)), `${request.method} ${request.path}`).toEqual([
				400,
				'direct_room'
			]);
		}
		expect(await roomState(direct)).toBe(before);
		// What is one's own works: reading it, its members, one's settings.
		expect((await send(anas, api.members(direct))).body.members).toHaveLength(2);
		const set = await send(anas, api.settings(direct, { notify: 'mute' }));
		expect(set.body.room.membership.notify).toBe('mute');
		// A stranger cannot tell it exists.
		const eve = await seedUser('eve');
		expect(verdict(await send(await tokenFor(eve), api.get(direct)))).toEqual([404, 'not_found']);
	});
});

// ---- Members ----

describe('members', () => {
	it('are listed in the app’s order and paged by cursor without gaps or repeats', async () => {
		const w = await group();
		await addMembers(w.roomId, 7);
		const client = await tokenFor(w.people.member, { scope: 'read' });
		const seen: { id: string; role: string }[] = [];
		let query = '?limit=3';
		let pages = 0;
		for (;;) {
			const answer = await send(client, api.members(w.roomId, query));
			expect(answer.status).toBe(200);
			expect(v.is(MemberList, answer.body)).toBe(true);
			seen.push(...answer.body.members);
			pages++;
			if (answer.body.nextCursor === null) break;
			query = `?limit=3&cursor=${answer.body.nextCursor}`;
		}
		// Olive, Adam, Mia, Gus and seven more.
		expect(seen).toHaveLength(11);
		expect(pages).toBe(4);
		expect(new Set(seen.map((m) => m.id)).size).toBe(11);
		expect(seen.slice(0, 2).map((m) => m.role)).toEqual(['owner', 'admin']);
		const whole = await send(client, api.members(w.roomId));
		expect(whole.body.members.map((m: { id: string }) => m.id)).toEqual(seen.map((m) => m.id));
		expect(whole.body.nextCursor).toBeNull();

		for (const bad of ['?cursor=nonsense', '?cursor=WyJ4Il0', '?limit=0', '?limit=501']) {
			const answer = await send(client, api.members(w.roomId, bad));
			expect(verdict(answer), bad).toEqual([400, 'bad_input']);
		}
	});

	it('are added by admins from among their friends, with clear refusals otherwise', async () => {
		const w = await group();
		const admin = await tokenFor(w.people.admin);
		const watcher = await connect(w.roomId, w.people.owner, 0);
		const added = await send(admin, api.add(w.roomId, `@${w.pal.username}`));
		expect(added.status).toBe(204);
		expect(await roleOf(w.roomId, w.pal)).toBe('member');
		// Told in the timeline, as the app's Add does.
		await watcher.next('message', (f) => f.message.body === `Adam added Pal`);

		const stranger = await seedUser('stranger');
		const before = await roomState(w.roomId);
		const cases: [unknown, number, string][] = [
			[w.pal.username, 409, 'bad_target'],
			[w.people.banned.username, 409, 'banned'],
			[stranger.username, 403, 'not_friends'],
			['nobody_by_that_name', 404, 'bad_target'],
			['no', 400, 'bad_input'],
			[42, 400, 'bad_input']
		];
		for (const [username, status, code] of cases) {
			expect(verdict(await send(admin, api.add(w.roomId, username))), String(username)).toEqual([
				status,
				code
			]);
		}
		expect(await roomState(w.roomId)).toBe(before);
	});

	it('removing someone closes their open sockets at once', async () => {
		const w = await group();
		const gusSocket = await connect(w.roomId, w.gus, 0);
		const removed = await send(await tokenFor(w.people.admin), api.kick(w.roomId, w.gus.id));
		expect(removed.status).toBe(204);
		await gusSocket.until(() => gusSocket.closed);
		expect(gusSocket.closed?.code).toBe(4003);
		expect(await roleOf(w.roomId, w.gus)).toBeNull();
		expect(verdict(await send(await tokenFor(w.gus), api.get(w.roomId)))).toEqual([
			404,
			'not_found'
		]);
	});

	it('leaving closes the leaver’s own sockets', async () => {
		const w = await group();
		const socket = await connect(w.roomId, w.people.member, 0);
		expect((await send(await tokenFor(w.people.member), api.leave(w.roomId))).status).toBe(204);
		await socket.until(() => socket.closed);
		expect(socket.closed?.code).toBe(4003);
		expect(await roleOf(w.roomId, w.people.member)).toBeNull();
	});

	it('refuses removing oneself, the owner, or someone not in the room', async () => {
		const w = await group();
		const admin = await tokenFor(w.people.admin);
		const before = await roomState(w.roomId);
		expect(verdict(await send(admin, api.kick(w.roomId, w.people.admin.id)))).toEqual([
			400,
			'self'
		]);
		expect(verdict(await send(admin, api.kick(w.roomId, w.people.owner.id)))).toEqual([
			409,
			'last_owner'
		]);
		expect(verdict(await send(admin, api.kick(w.roomId, w.people.stranger.id)))).toEqual([
			404,
			'bad_target'
		]);
		expect(verdict(await send(admin, api.kick(w.roomId, 'NOT-AN-ID')))).toEqual([400, 'bad_input']);
		expect(await roomState(w.roomId)).toBe(before);
	});

	it('change roles: promote, demote, never the owner; ownership only by transfer', async () => {
		const w = await group();
		const owner = await tokenFor(w.people.owner);
		expect((await send(owner, api.role(w.roomId, w.gus.id, 'admin'))).status).toBe(204);
		expect(await roleOf(w.roomId, w.gus)).toBe('admin');
		expect((await send(owner, api.role(w.roomId, w.gus.id, 'member'))).status).toBe(204);
		expect(await roleOf(w.roomId, w.gus)).toBe('member');

		const before = await roomState(w.roomId);
		const refusals: [string, unknown, number, string][] = [
			[w.gus.id, 'member', 409, 'bad_target'],
			[w.people.admin.id, 'admin', 409, 'bad_target'],
			[w.people.owner.id, 'member', 409, 'last_owner'],
			[w.people.stranger.id, 'admin', 404, 'bad_target'],
			[w.gus.id, 'owner', 400, 'bad_input'],
			[w.gus.id, undefined, 400, 'bad_input']
		];
		for (const [userId, role, status, code] of refusals) {
			expect(verdict(await send(owner, api.role(w.roomId, userId, role))), `${role}`).toEqual([
				status,
				code
			]);
		}
		expect(verdict(await send(owner, api.transfer(w.roomId, w.people.owner.id)))).toEqual([
			400,
			'self'
		]);
		expect(verdict(await send(owner, api.transfer(w.roomId, w.people.stranger.id)))).toEqual([
			404,
			'bad_target'
		]);
		expect(await roomState(w.roomId)).toBe(before);

		const watcher = await connect(w.roomId, w.gus, 0);
		expect((await send(owner, api.transfer(w.roomId, w.gus.id))).status).toBe(204);
		expect(await roleOf(w.roomId, w.gus)).toBe('owner');
		expect(await roleOf(w.roomId, w.people.owner)).toBe('admin');
		await watcher.next('message', (f) => f.message.body === 'Olive made Gus the owner');
		const mine = await send(await tokenFor(w.gus), api.get(w.roomId));
		expect(mine.body.room.membership.role).toBe('owner');
	});
});

describe('bans', () => {
	it('ban closes sockets and keeps them out; the list pages; unban lifts it', async () => {
		const w = await group();
		const admin = await tokenFor(w.people.admin);
		const gusSocket = await connect(w.roomId, w.gus, 0);
		expect((await send(admin, api.ban(w.roomId, w.gus.id))).status).toBe(204);
		await gusSocket.until(() => gusSocket.closed);
		expect(gusSocket.closed?.code).toBe(4003);
		expect(await isBanned(w.roomId, w.gus)).toBe(true);
		expect(await roleOf(w.roomId, w.gus)).toBeNull();
		const guss = await tokenFor(w.gus);
		expect(verdict(await send(guss, api.get(w.roomId)))).toEqual([403, 'banned']);
		expect(verdict(await send(guss, api.redeem(w.code)))).toEqual([403, 'banned']);

		const first = await send(admin, api.bans(w.roomId, '?limit=1'));
		expect(v.is(BanList, first.body)).toBe(true);
		expect(first.body.bans).toHaveLength(1);
		const second = await send(
			admin,
			api.bans(w.roomId, `?limit=1&cursor=${first.body.nextCursor}`)
		);
		expect(second.body.nextCursor).toBeNull();
		expect(
			[...first.body.bans, ...second.body.bans].map((b: { id: string }) => b.id).sort()
		).toEqual([w.gus.id, w.people.banned.id].sort());

		expect((await send(admin, api.unban(w.roomId, w.gus.id))).status).toBe(204);
		expect(await isBanned(w.roomId, w.gus)).toBe(false);
		// Unbanning does not bring them back.
		expect(await roleOf(w.roomId, w.gus)).toBeNull();
		const before = await roomState(w.roomId);
		expect(verdict(await send(admin, api.unban(w.roomId, w.gus.id)))).toEqual([404, 'bad_target']);
		expect(verdict(await send(admin, api.ban(w.roomId, w.people.banned.id)))).toEqual([
			404,
			'bad_target'
		]);
		expect(verdict(await send(admin, api.ban(w.roomId, w.people.owner.id)))).toEqual([
			409,
			'last_owner'
		]);
		expect(await roomState(w.roomId)).toBe(before);
	});
});

// ---- Invites ----

describe('invites', () => {
	it('are made by admins, shown once, listed by id, previewed, redeemed and revoked', async () => {
		const w = await group();
		const admin = await tokenFor(w.people.admin);
		const made = await send(admin, api.invite(w.roomId, { lifetime: '1h', maxUses: 2 }));
		expect(made.status).toBe(201);
		expect(v.is(CreatedInvite, made.body)).toBe(true);
		expect(made.body.url).toBe(`https://parley.test/invite/${made.body.code}`);
		const listed = await send(admin, api.invites(w.roomId));
		expect(v.is(InviteList, listed.body)).toBe(true);
		const entry = listed.body.invites.find((i: { id: string }) => i.id === made.body.id);
		expect(entry).toMatchObject({ maxUses: 2, uses: 0, state: 'active', createdByName: 'Adam' });
		// The list never shows a code again.
		expect(JSON.stringify(listed.body)).not.toContain(made.body.code);

		const eve = await seedUser('eve');
		const eves = await tokenFor(eve);
		const preview = await send(eves, api.preview(made.body.code));
		expect(preview.status).toBe(200);
		expect(v.is(InvitePreview, preview.body)).toBe(true);
		expect(preview.body).toEqual({
			room: { id: w.roomId, kind: 'group', name: 'Test room', description: '', memberCount: 4 },
			joined: false
		});
		const socket = await connect(w.roomId, w.people.owner, 0);
		const joined = await send(eves, api.redeem(made.body.code));
		expect(joined.status).toBe(200);
		expect(v.is(RoomAnswer, joined.body)).toBe(true);
		expect(joined.body.room).toMatchObject({ id: w.roomId, membership: { role: 'member' } });
		await socket.next('message', (f) => f.message.body.includes('invite link'));
		expect((await send(eves, api.preview(made.body.code))).body.joined).toBe(true);
		// A member following it again just arrives, using nothing; the second use is someone else's.
		expect((await send(eves, api.redeem(made.body.code))).status).toBe(200);
		expect(
			(await send(await tokenFor(await seedUser('kim')), api.redeem(made.body.code))).status
		).toBe(200);
		const latecomer = await seedUser('late');
		const late = await tokenFor(latecomer);
		expect(verdict(await send(late, api.redeem(made.body.code)))).toEqual([410, 'invite_used_up']);

		expect((await send(admin, api.revoke(w.roomId, hashSecret(w.code)))).status).toBe(204);
		expect(verdict(await send(late, api.preview(w.code)))).toEqual([410, 'invite_revoked']);
		expect(verdict(await send(late, api.redeem(w.code)))).toEqual([410, 'invite_revoked']);
		expect(verdict(await send(admin, api.revoke(w.roomId, hashSecret(w.code))))).toEqual([
			404,
			'bad_target'
		]);
		expect(verdict(await send(late, api.preview('nosuchcode')))).toEqual([404, 'invite_invalid']);
		expect(verdict(await send(late, api.preview('Not A Code')))).toEqual([400, 'bad_input']);
		expect(await roleOf(w.roomId, latecomer)).toBeNull();
	});

	it('tell a banned person they were removed, and refuse bad options', async () => {
		const w = await group();
		const bart = await tokenFor(w.people.banned);
		const preview = await send(bart, api.preview(w.code));
		expect(verdict(preview)).toEqual([403, 'banned']);
		expect(preview.body.error.message).toContain('Test room');
		const admin = await tokenFor(w.people.admin);
		const before = await roomState(w.roomId);
		for (const [json, path] of [
			[{}, 'lifetime'],
			[{ lifetime: '1y' }, 'lifetime'],
			[{ lifetime: '1d', maxUses: 0 }, 'maxUses'],
			[{ lifetime: '1d', maxUses: 1001 }, 'maxUses'],
			[{ lifetime: '1d', maxUses: 1.5 }, 'maxUses'],
			[{ lifetime: '1d', maxUses: '5' }, 'maxUses']
		] as const) {
			const answer = await send(admin, api.invite(w.roomId, json));
			expect(verdict(answer), JSON.stringify(json)).toEqual([400, 'bad_input']);
			expect(answer.body.error.details).toContainEqual(expect.objectContaining({ path }));
		}
		expect(await roomState(w.roomId)).toBe(before);
	});
});

// ---- Tokens ----

describe('tokens', () => {
	/** Every write of these routes, about the group `w`. */
	const writes = (w: Group): Request[] => [
		api.edit(w.roomId, { name: 'x' }),
		api.remove(w.roomId),
		api.settings(w.roomId, { pinned: true }),
		api.join(w.roomId),
		api.leave(w.roomId),
		api.add(w.roomId, w.pal.username),
		api.kick(w.roomId, w.gus.id),
		api.role(w.roomId, w.gus.id, 'admin'),
		api.transfer(w.roomId, w.gus.id),
		api.ban(w.roomId, w.gus.id),
		api.unban(w.roomId, w.people.banned.id),
		api.invite(w.roomId),
		api.revoke(w.roomId, hashSecret(w.code))
	];
	const reads = (w: Group): Request[] => [
		api.get(w.roomId),
		api.members(w.roomId),
		api.bans(w.roomId),
		api.invites(w.roomId)
	];

	it('a read-only token reads and is refused every write, which changes nothing', async () => {
		const w = await group();
		const reader = await tokenFor(w.people.owner, { scope: 'read' });
		for (const request of reads(w)) {
			expect((await send(reader, request)).status, request.path).toBe(200);
		}
		const before = await roomState(w.roomId);
		for (const request of [...writes(w), api.redeem(w.code)]) {
			expect(verdict(await send(reader, request)), `${request.method} ${request.path}`).toEqual([
				403,
				'insufficient_scope'
			]);
		}
		expect(await roomState(w.roomId)).toBe(before);
	});

	it('a token limited to other rooms is refused this one, and the account-wide invite routes', async () => {
		const w = await group();
		const elsewhere = await seedRoom(w.people.owner);
		const limited = await tokenFor(w.people.owner, { rooms: [elsewhere] });
		const before = await roomState(w.roomId);
		for (const request of [...reads(w), ...writes(w), api.preview(w.code), api.redeem(w.code)]) {
			expect(verdict(await send(limited, request)), `${request.method} ${request.path}`).toEqual([
				403,
				'token_rooms'
			]);
		}
		expect(await roomState(w.roomId)).toBe(before);
		// In its own room it works.
		expect((await send(limited, api.get(elsewhere))).status).toBe(200);
		const mine = await tokenFor(w.people.owner, { rooms: [w.roomId] });
		expect((await send(mine, api.members(w.roomId))).status).toBe(200);
	});

	it('rooms a token may not reach stay unchanged in D1, across every kind of room', async () => {
		const ana = await seedUser('ana');
		const bob = await seedUser('bob');
		const ids = [await seedRoom(ana, bob), await publicRoom(ana, bob), await directRoom(ana, bob)];
		const limited = await tokenFor(bob, { rooms: [ids[0]!] });
		const state = await db()
			.select()
			.from(memberships)
			.where(inArray(memberships.roomId, ids))
			.orderBy(memberships.roomId, memberships.userId);
		for (const id of ids.slice(1)) {
			for (const request of [api.get(id), api.leave(id), api.settings(id, { notify: 'mute' })]) {
				expect(verdict(await send(limited, request))).toEqual([403, 'token_rooms']);
			}
		}
		expect(
			await db()
				.select()
				.from(memberships)
				.where(inArray(memberships.roomId, ids))
				.orderBy(memberships.roomId, memberships.userId)
		).toEqual(state);
	});
});
