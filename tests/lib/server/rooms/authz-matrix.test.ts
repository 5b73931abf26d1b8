// The authorization matrix: every room-scoped page load, form action, API route and the socket
// upgrade, called as SvelteKit would call them, for each kind of person. Each cell gets a fresh
// world, so an action that is allowed in one cell can't change what the next one sees, and every
// refused cell also proves that nothing changed.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { isActionFailure, isHttpError, isRedirect } from '@sveltejs/kit';
import { and, eq, inArray } from 'drizzle-orm';
import { decideRoom, loadRoomAccess, pairOf, type RoomAction } from '$lib/server/rooms/authz';
import {
	blocks,
	friendships,
	memberships,
	roomBans,
	roomInvites,
	rooms,
	sessions,
	users
} from '$shared/db/schema';
import { directKeyOf } from '$lib/server/rooms/direct-rooms';
import { generateSecretToken, hashSecret } from '$lib/server/ids';
import { openRealtimeSocket } from '$lib/server/realtime/door';
import {
	SESSION_ABSOLUTE_LIFETIME_MS,
	createSession,
	generateSessionToken,
	validateSessionToken,
	type SessionUser
} from '$lib/server/auth/session';
import * as roomPage from '../../../../src/routes/rooms/[id]/+page.server';
import * as detailsPage from '../../../../src/routes/rooms/[id]/details/+page.server';
import * as invitePage from '../../../../src/routes/invite/[code]/+page.server';
import * as historyApi from '../../../../src/routes/api/rooms/[id]/messages/+server';
import * as roomLayout from '../../../../src/routes/rooms/[id]/+layout.server';
import * as themePage from '../../../../src/routes/rooms/[id]/theme/+page.server';
import * as apiRoom from '../../../../src/routes/api/v1/rooms/[id]/+server';
import * as apiMessages from '../../../../src/routes/api/v1/rooms/[id]/messages/+server';
import * as apiMembers from '../../../../src/routes/api/v1/rooms/[id]/members/+server';
import * as apiInvites from '../../../../src/routes/api/v1/rooms/[id]/invites/+server';
import * as apiSettings from '../../../../src/routes/api/v1/rooms/[id]/settings/+server';
import * as apiJoin from '../../../../src/routes/api/v1/rooms/[id]/join/+server';
import * as apiLeave from '../../../../src/routes/api/v1/rooms/[id]/leave/+server';
import { db, roomState } from '../../../helpers';

const ROLES = ['anonymous', 'nonMember', 'member', 'admin', 'owner', 'banned', 'blocked'] as const;
type Role = (typeof ROLES)[number];

/** What a person gets: `ok` (a page, a 101, or a redirect onwards), `login`, or a refusal status. */
type Outcome = 'ok' | 'login' | 400 | 401 | 403 | 404 | 409 | 410;

let worldCount = 0;

/**
 * Alice owns a group where Bob and Ivy are admins and Carol and Gus are members; Dave is banned
 * from it; Erin is not in it; Hank is everyone's friend (someone to add). Frank has a direct room
 * with Alice, who blocked him: he is the "blocked" person, and that direct room is his room.
 */
async function buildWorld() {
	const tag = `w${++worldCount}${Math.random().toString(36).slice(2, 7)}`;
	const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gus', 'hank', 'ivy'] as const;
	const person = Object.fromEntries(
		names.map((n) => [n, { id: `${n}${tag}`, displayName: n[0]!.toUpperCase() + n.slice(1) }])
	) as Record<(typeof names)[number], { id: string; displayName: string }>;
	const now = Date.now();
	const group = `g${tag}`;
	const direct = `d${tag}`;
	const inviteCode = generateSecretToken();
	const member = (roomId: string, userId: string, role: 'owner' | 'admin' | 'member') => ({
		roomId,
		userId,
		role,
		joinedAt: now
	});
	const { alice, bob, carol, dave, frank, gus, hank, ivy } = person;
	// One statement per person: drizzle binds every column of a row (defaults too), and D1 binds
	// at most 100 values per statement.
	const [firstPerson, ...others] = Object.values(person).map((p) =>
		db()
			.insert(users)
			.values({
				id: p.id,
				email: `${p.id}@example.test`,
				username: p.id,
				usernameKey: p.id,
				displayName: p.displayName,
				createdAt: now
			})
	);
	await db().batch([firstPerson!, ...others]);
	await db().batch([
		db()
			.insert(rooms)
			.values([
				{
					id: group,
					kind: 'group',
					name: 'Book club',
					createdBy: alice.id,
					createdAt: now,
					memberCount: 5
				},
				{
					id: direct,
					kind: 'direct',
					directKey: directKeyOf(alice.id, frank.id),
					createdBy: alice.id,
					createdAt: now,
					memberCount: 2
				}
			]),
		db()
			.insert(memberships)
			.values([
				member(group, alice.id, 'owner'),
				member(group, bob.id, 'admin'),
				member(group, ivy.id, 'admin'),
				member(group, carol.id, 'member'),
				member(group, gus.id, 'member'),
				member(direct, alice.id, 'member'),
				member(direct, frank.id, 'member')
			]),
		db().insert(roomBans).values({ roomId: group, userId: dave.id, createdAt: now }),
		db().insert(blocks).values({ blockerId: alice.id, blockedId: frank.id, createdAt: now }),
		db()
			.insert(friendships)
			.values(
				Object.values(person)
					.filter((p) => p.id !== hank.id)
					.map((p) => ({
						...pairOf(p.id, hank.id),
						status: 'accepted' as const,
						requestedBy: p.id,
						createdAt: now
					}))
			),
		db()
			.insert(roomInvites)
			.values({ id: hashSecret(inviteCode), roomId: group, createdBy: alice.id, createdAt: now })
	]);
	const actors: Record<Role, { user: { id: string; displayName: string } | null; roomId: string }> =
		{
			anonymous: { user: null, roomId: group },
			nonMember: { user: person.erin, roomId: group },
			member: { user: carol, roomId: group },
			admin: { user: bob, roomId: group },
			owner: { user: alice, roomId: group },
			banned: { user: dave, roomId: group },
			blocked: { user: frank, roomId: direct }
		};
	return { person, group, direct, inviteCode, actors };
}
type World = Awaited<ReturnType<typeof buildWorld>>;

/** Everything a room-scoped action could change, to prove a refusal changed nothing. */
async function fingerprint(world: World): Promise<string> {
	const state = await db().batch([
		db()
			.select()
			.from(rooms)
			.where(inArray(rooms.id, [world.group, world.direct])),
		db()
			.select()
			.from(memberships)
			.where(inArray(memberships.roomId, [world.group, world.direct]))
			.orderBy(memberships.roomId, memberships.userId),
		db().select().from(roomBans).where(eq(roomBans.roomId, world.group)),
		db()
			.select()
			.from(roomInvites)
			.where(eq(roomInvites.roomId, world.group))
			.orderBy(roomInvites.id)
	]);
	return JSON.stringify(state);
}

function sessionUser(user: { id: string; displayName: string }): SessionUser {
	return {
		id: user.id,
		username: user.id,
		displayName: user.displayName,
		email: `${user.id}@example.test`,
		emailVerified: true
	};
}

function sessionOf(user: { id: string }) {
	const now = Date.now();
	return {
		id: `s-${user.id}`,
		userId: user.id,
		createdAt: now,
		expiresAt: now + 60_000,
		providerAuthAt: null
	};
}

type Call = { path: string; params: Record<string, string>; form?: Record<string, string> };

/** A request event as SvelteKit builds it for our handlers. */
function eventFor(user: { id: string; displayName: string } | null, call: Call) {
	const url = new URL(`https://parley.test${call.path}`);
	const body = new FormData();
	for (const [k, v] of Object.entries(call.form ?? {})) body.set(k, v);
	const event = {
		// What the hooks put in locals for a signed-in request: the user and their session.
		locals: user
			? { user: sessionUser(user), session: sessionOf(user) }
			: { user: null, session: null },
		params: call.params,
		platform: { env },
		url,
		request: new Request(url, call.form ? { method: 'POST', body } : {}),
		// Pages under /rooms/[id] get the room layout's data, as SvelteKit would give them.
		parent: () => asHandler(roomLayout.load)(event as never),
		// Which invalidations rerun a load: nothing to track outside SvelteKit.
		depends: () => {}
	};
	return event;
}

/** Runs a handler and reduces whatever it does (return, redirect, error) to an Outcome. */
async function outcomeOf(run: () => unknown): Promise<Outcome> {
	try {
		const result = await run();
		if (result instanceof Response) return result.ok ? 'ok' : (result.status as Outcome);
		if (isActionFailure(result)) return result.status as Outcome;
		return 'ok';
	} catch (thrown) {
		if (isRedirect(thrown)) return thrown.location.startsWith('/login') ? 'login' : 'ok';
		if (isHttpError(thrown)) return thrown.status as Outcome;
		throw thrown;
	}
}

// The handlers are called with the event shape they read; SvelteKit's full type isn't needed.
type Handler = (event: never) => unknown;
const asHandler = (fn: unknown) => fn as Handler;

function action(name: string, form: (w: World) => Record<string, string> = () => ({})) {
	return async (w: World, role: Role) => {
		const { user, roomId } = w.actors[role];
		const handler = asHandler(detailsPage.actions[name]);
		const event = eventFor(user, {
			path: `/rooms/${roomId}/details`,
			params: { id: roomId },
			form: form(w)
		});
		return outcomeOf(() => handler(event as never));
	};
}

async function openSocket(w: World, role: Role): Promise<Outcome> {
	const { user, roomId } = w.actors[role];
	let token: string | undefined;
	if (user) {
		token = generateSessionToken();
		await createSession(db(), token, user.id);
	}
	return doorOutcome(roomId, token);
}

/** What the door answers a socket upgrade carrying this session cookie. */
async function doorOutcome(roomId: string, token: string | undefined): Promise<Outcome> {
	const response = await openRealtimeSocket(
		new Request(`https://parley.test/ws/room/${roomId}`, { headers: { Upgrade: 'websocket' } }),
		{ db: db(), rooms: env.ROOMS, hubs: env.HUBS },
		token
	);
	if (response.status === 101) {
		response.webSocket!.accept();
		response.webSocket!.close(1000, 'done');
		return 'ok';
	}
	return response.status as Outcome;
}

type Cell = (w: World, role: Role) => Promise<Outcome>;
type Row = { name: string; run: Cell; expect: Outcome[]; changes: boolean };

const target = (w: World) => ({ userId: w.person.gus.id });

// Columns: anonymous, nonMember, member, admin, owner, banned, blocked.
const MATRIX: Row[] = [
	{
		name: 'GET /rooms/[id] (page load)',
		changes: false,
		expect: ['login', 404, 'ok', 'ok', 'ok', 403, 403],
		run: (w, role) => {
			const { user, roomId } = w.actors[role];
			const event = eventFor(user, { path: `/rooms/${roomId}`, params: { id: roomId } });
			return outcomeOf(() => asHandler(roomPage.load)(event as never));
		}
	},
	{
		name: 'GET /api/rooms/[id]/messages (history page)',
		changes: false,
		expect: [401, 404, 'ok', 'ok', 'ok', 403, 403],
		run: (w, role) => {
			const { user, roomId } = w.actors[role];
			const event = eventFor(user, {
				path: `/api/rooms/${roomId}/messages`,
				params: { id: roomId }
			});
			return outcomeOf(() => asHandler(historyApi.GET)(event as never));
		}
	},
	{
		name: 'WebSocket upgrade /ws/room/[id]',
		changes: false,
		expect: [401, 404, 'ok', 'ok', 'ok', 403, 403],
		run: openSocket
	},
	{
		name: 'POST /rooms/[id]?/join',
		changes: false,
		expect: ['login', 403, 'ok', 'ok', 'ok', 403, 403],
		run: (w, role) => {
			const { user, roomId } = w.actors[role];
			const event = eventFor(user, { path: `/rooms/${roomId}`, params: { id: roomId }, form: {} });
			return outcomeOf(() => asHandler(roomPage.actions.join)(event as never));
		}
	},
	{
		name: 'GET /rooms/[id]/details (members panel)',
		changes: false,
		expect: ['login', 404, 'ok', 'ok', 'ok', 403, 403],
		run: (w, role) => {
			const { user, roomId } = w.actors[role];
			const event = eventFor(user, { path: `/rooms/${roomId}/details`, params: { id: roomId } });
			return outcomeOf(() => asHandler(detailsPage.load)(event as never));
		}
	},
	{
		name: 'details?/settings (notification level, pin, archive)',
		changes: true,
		expect: ['login', 404, 'ok', 'ok', 'ok', 403, 403],
		run: action('settings', () => ({ notify: 'mute', pinned: 'on' }))
	},
	{
		name: 'details?/update (rename, description)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('update', () => ({ name: 'Renamed', description: 'New words' }))
	},
	{
		name: 'details?/add (a friend)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('add', (w) => ({ username: w.person.hank.id }))
	},
	{
		name: 'details?/remove (a member)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('remove', target)
	},
	{
		name: 'details?/promote (member to admin)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('promote', target)
	},
	{
		name: 'details?/demote (admin to member)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('demote', (w) => ({ userId: w.person.ivy.id }))
	},
	{
		name: 'details?/demote (the owner)',
		changes: true,
		expect: ['login', 404, 403, 409, 409, 403, 403],
		run: action('demote', (w) => ({ userId: w.person.alice.id }))
	},
	{
		name: 'details?/ban (a member)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('ban', target)
	},
	{
		name: 'details?/unban',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('unban', (w) => ({ userId: w.person.dave.id }))
	},
	{
		// The other bot actions ask the same rule (`edit`) through `authorizeBot`: bots.test.ts.
		name: 'details?/addBot',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('addBot', () => ({ name: 'Matrix bot' }))
	},
	{
		name: 'details?/invite (create a link)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('invite', () => ({ lifetime: '1d', maxUses: '5' }))
	},
	{
		name: 'details?/revoke (a link)',
		changes: true,
		expect: ['login', 404, 403, 'ok', 'ok', 403, 403],
		run: action('revoke', (w) => ({ inviteId: hashSecret(w.inviteCode) }))
	},
	{
		name: 'details?/transfer (ownership)',
		changes: true,
		expect: ['login', 404, 403, 403, 'ok', 403, 403],
		run: action('transfer', target)
	},
	{
		name: 'details?/delete (the room)',
		changes: true,
		expect: ['login', 404, 403, 403, 'ok', 403, 403],
		run: action('delete')
	},
	{
		name: 'details?/leave',
		changes: true,
		expect: ['login', 404, 'ok', 'ok', 409, 403, 403],
		run: action('leave')
	},
	{
		name: 'GET /rooms/[id]/theme (per-chat theme)',
		changes: false,
		expect: ['login', 404, 'ok', 'ok', 'ok', 403, 403],
		run: (w, role) => {
			const { user, roomId } = w.actors[role];
			const event = eventFor(user, { path: `/rooms/${roomId}/theme`, params: { id: roomId } });
			return outcomeOf(() => asHandler(themePage.load)(event as never));
		}
	},
	{
		name: 'theme?/save',
		changes: true,
		expect: ['login', 404, 'ok', 'ok', 'ok', 403, 403],
		run: (w, role) => {
			const { user, roomId } = w.actors[role];
			const event = eventFor(user, {
				path: `/rooms/${roomId}/theme`,
				params: { id: roomId },
				form: { accent: 'teal', background: '' }
			});
			return outcomeOf(() => asHandler(themePage.actions.save)(event as never));
		}
	},
	{
		name: 'GET /invite/[code] (a link to the group)',
		changes: false,
		expect: ['login', 'ok', 'ok', 'ok', 'ok', 403, 'ok'],
		run: (w, role) => {
			const event = eventFor(w.actors[role].user, {
				path: `/invite/${w.inviteCode}`,
				params: { code: w.inviteCode }
			});
			return outcomeOf(() => asHandler(invitePage.load)(event as never));
		}
	},
	{
		name: 'POST /invite/[code]?/join',
		changes: false,
		expect: ['login', 'ok', 'ok', 'ok', 'ok', 403, 'ok'],
		run: (w, role) => {
			const event = eventFor(w.actors[role].user, {
				path: `/invite/${w.inviteCode}`,
				params: { code: w.inviteCode },
				form: {}
			});
			return outcomeOf(() => asHandler(invitePage.actions.join)(event as never));
		}
	}
];

describe('authorization matrix', () => {
	for (const row of MATRIX) {
		const title = `${row.name}: ${ROLES.map((r, i) => `${r} ${row.expect[i]}`).join(', ')}`;
		it(title, { timeout: 120_000 }, async () => {
			const got: Outcome[] = [];
			for (const role of ROLES) {
				const world = await buildWorld();
				const before = await fingerprint(world);
				const outcome = await row.run(world, role);
				got.push(outcome);
				const after = await fingerprint(world);
				if (outcome !== 'ok') {
					expect(after, `${role} was refused, so nothing may change`).toBe(before);
				} else if (row.changes) {
					expect(after, `${role} was allowed, so the change must be made`).not.toBe(before);
				}
			}
			expect(Object.fromEntries(ROLES.map((r, i) => [r, got[i]]))).toEqual(
				Object.fromEntries(ROLES.map((r, i) => [r, row.expect[i]]))
			);
		});
	}

	it(
		'a removed member is refused the page, the history and the socket from then on',
		{ timeout: 60_000 },
		async () => {
			const world = await buildWorld();
			const gus = world.person.gus;
			world.actors.member = { user: gus, roomId: world.group };
			expect(await openSocket(world, 'member')).toBe('ok');
			expect(await action('remove', target)(world, 'owner')).toBe('ok');
			for (const row of MATRIX.slice(0, 3)) expect(await row.run(world, 'member')).toBe(404);
			const rows = await db()
				.select()
				.from(memberships)
				.where(and(eq(memberships.roomId, world.group), eq(memberships.userId, gus.id)));
			expect(rows).toHaveLength(0);
		}
	);
});

// The door answers an upgrade from its own single D1 statement, the pages from theirs; both are
// built from the same rules (`sessionHolds`, `roomAccessColumns`, `decideRoom`). This walks every
// person the matrix knows, in every state their session can be in, into every kind of room, and
// asks the door, the history API and the room page: they must agree on who may read the room.
describe('the door answers as the pages do', () => {
	it('for every person, session state and kind of room', { timeout: 120_000 }, async () => {
		const w = await buildWorld();
		const { alice, carol, dave, gus } = w.person;
		const now = Date.now();
		const open = `p${w.group}`;
		await db().batch([
			db().insert(rooms).values({
				id: open,
				kind: 'public',
				name: 'Lobby',
				createdBy: alice.id,
				createdAt: now,
				memberCount: 2
			}),
			db()
				.insert(memberships)
				.values([
					{ roomId: open, userId: alice.id, role: 'owner', joinedAt: now },
					{ roomId: open, userId: carol.id, role: 'member', joinedAt: now }
				]),
			db().insert(roomBans).values({ roomId: open, userId: dave.id, createdAt: now }),
			// A ban that races a membership row: the ban wins on every path.
			db()
				.insert(memberships)
				.values({ roomId: open, userId: dave.id, role: 'member', joinedAt: now })
		]);
		const roomIds = [w.group, w.direct, open, `missing${w.group}`];

		/** Each caller: who the page would see (or nobody) and the cookie the door would get. */
		const callers: {
			name: string;
			user: { id: string; displayName: string } | null;
			token?: string;
		}[] = [
			{ name: 'no cookie', user: null },
			{ name: 'a made-up cookie', user: null, token: 'x'.repeat(40) }
		];
		for (const person of Object.values(w.person)) {
			const token = generateSessionToken();
			await createSession(db(), token, person.id);
			callers.push({ name: person.displayName, user: person, token });
		}
		const aged = async (name: string, times: { createdAt: number; expiresAt: number }) => {
			const token = generateSessionToken();
			await createSession(db(), token, carol.id);
			await db()
				.update(sessions)
				.set(times)
				.where(eq(sessions.id, hashSecret(token)));
			callers.push({ name, user: carol, token });
		};
		await aged('Carol, session expired', { createdAt: now - 1000, expiresAt: now - 1 });
		await aged('Carol, session past its absolute lifetime', {
			createdAt: now - SESSION_ABSOLUTE_LIFETIME_MS - 1,
			expiresAt: now + 60_000
		});
		const deleted = generateSessionToken();
		await createSession(db(), deleted, gus.id);
		await db().update(users).set({ deletedAt: now }).where(eq(users.id, gus.id));
		callers.push({ name: 'Gus, account deleted', user: gus, token: deleted });

		const seen = new Set<Outcome>();
		for (const caller of callers) {
			for (const roomId of roomIds) {
				const door = await doorOutcome(roomId, caller.token);
				// The page sees whom the hooks' session check signs in, with this same cookie.
				const signedIn = caller.token ? await validateSessionToken(db(), caller.token) : null;
				const user = signedIn?.user ? caller.user : null;
				const params = { id: roomId };
				const history = await outcomeOf(() =>
					asHandler(historyApi.GET)(
						eventFor(user, { path: `/api/rooms/${roomId}/messages`, params }) as never
					)
				);
				const page = await outcomeOf(async () => {
					const data = (await asHandler(roomPage.load)(
						eventFor(user, { path: `/rooms/${roomId}`, params }) as never
					)) as { member: boolean };
					// A public room's page shows a non-member its name and a Join button: no timeline.
					if (!data.member) throw Object.assign(new Error('preview'), { preview: true });
					return data;
				}).catch((thrown: { preview?: boolean }) => {
					if (thrown.preview) return 403 as const;
					throw thrown;
				});
				const where = `${caller.name} into ${roomId}`;
				expect(history, `${where}: door and history API`).toBe(door);
				expect(page === 'login' ? 401 : page, `${where}: door and room page`).toBe(door);
				seen.add(door);
			}
		}
		// The walk reached every answer the door can give, so agreement above is not agreement on one.
		expect([...seen].sort()).toEqual([401, 403, 404, 'ok'].sort());
	});
});

// The public API's room routes answer from `ctx.room`, which asks `decideRoom`. This asks each
// route, for every person the matrix knows (and nobody signed in) in every kind of room, and
// requires the API's answer to be the one `decideRoom` gives for the route's action at that
// moment: the same status and code when refused, a success when allowed, and nothing changed by
// a refusal. The routes that end a membership or the room come last, each in a world of its own.
type ApiRow = {
	route: string;
	action: RoomAction;
	handler: unknown;
	method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
	suffix: string;
	json?: () => unknown;
};

const API_ROWS: ApiRow[] = [
	{
		route: 'GET /api/v1/rooms/{id}',
		action: 'view',
		handler: apiRoom.GET,
		method: 'GET',
		suffix: ''
	},
	{
		route: 'GET /api/v1/rooms/{id}/messages',
		action: 'read',
		handler: apiMessages.GET,
		method: 'GET',
		suffix: '/messages'
	},
	{
		route: 'POST /api/v1/rooms/{id}/messages',
		action: 'read',
		handler: apiMessages.POST,
		method: 'POST',
		suffix: '/messages',
		json: () => ({ clientId: crypto.randomUUID(), body: 'hello' })
	},
	{
		route: 'GET /api/v1/rooms/{id}/members',
		action: 'read',
		handler: apiMembers.GET,
		method: 'GET',
		suffix: '/members'
	},
	{
		route: 'POST /api/v1/rooms/{id}/invites',
		action: 'manage_invites',
		handler: apiInvites.POST,
		method: 'POST',
		suffix: '/invites',
		json: () => ({ lifetime: '1d', maxUses: 5 })
	},
	{
		route: 'PATCH /api/v1/rooms/{id}/settings',
		action: 'configure',
		handler: apiSettings.PATCH,
		method: 'PATCH',
		suffix: '/settings',
		json: () => ({ notify: 'mute' })
	},
	{
		route: 'POST /api/v1/rooms/{id}/join',
		action: 'join',
		handler: apiJoin.POST,
		method: 'POST',
		suffix: '/join'
	},
	{
		route: 'PATCH /api/v1/rooms/{id}',
		action: 'edit',
		handler: apiRoom.PATCH,
		method: 'PATCH',
		suffix: '',
		json: () => ({ name: 'Renamed' })
	},
	{
		route: 'POST /api/v1/rooms/{id}/leave',
		action: 'leave',
		handler: apiLeave.POST,
		method: 'POST',
		suffix: '/leave'
	},
	{
		route: 'DELETE /api/v1/rooms/{id}',
		action: 'delete',
		handler: apiRoom.DELETE,
		method: 'DELETE',
		suffix: ''
	}
];

/**
 * The matrix's world with two rooms besides: a public room (Alice owns it, Carol is in it, Dave is
 * banned), and a direct room between Bob and Carol that no block closes.
 */
async function worldWithLobby() {
	const w = await buildWorld();
	const { alice, bob, carol, dave } = w.person;
	const now = Date.now();
	const lobby = `p${w.group}`;
	const open = `o${w.direct}`;
	await db().batch([
		db()
			.insert(rooms)
			.values({
				id: open,
				kind: 'direct',
				directKey: directKeyOf(bob.id, carol.id),
				createdBy: bob.id,
				createdAt: now,
				memberCount: 2
			}),
		db()
			.insert(memberships)
			.values([
				{ roomId: open, userId: bob.id, role: 'member', joinedAt: now },
				{ roomId: open, userId: carol.id, role: 'member', joinedAt: now }
			]),
		db().insert(rooms).values({
			id: lobby,
			kind: 'public',
			name: 'Lobby',
			createdBy: alice.id,
			createdAt: now,
			memberCount: 2
		}),
		db()
			.insert(memberships)
			.values([
				{ roomId: lobby, userId: alice.id, role: 'owner', joinedAt: now },
				{ roomId: lobby, userId: carol.id, role: 'member', joinedAt: now }
			]),
		db().insert(roomBans).values({ roomId: lobby, userId: dave.id, createdAt: now })
	]);
	return { ...w, lobby, open };
}

/** What an API route answers, as `decideRoom` would say it: `ok`, or the status and code. */
async function apiOutcome(
	user: { id: string; displayName: string } | null,
	row: ApiRow,
	roomId: string
): Promise<[Outcome, string | null]> {
	const path = `/api/v1/rooms/${roomId}${row.suffix}`;
	const event = eventFor(user, { path, params: { id: roomId } });
	const json = row.json?.();
	event.request = new Request(event.url, {
		method: row.method,
		...(json === undefined
			? {}
			: { headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) })
	});
	const response = (await asHandler(row.handler)(event as never)) as Response;
	if (response.ok) return ['ok', null];
	const body = (await response.json()) as { error: { code: string } };
	return [response.status as Outcome, body.error.code];
}

// Each route in a world of its own, so the routes are asked at once.
describe.concurrent('the API answers as decideRoom does', () => {
	for (const row of API_ROWS) {
		it(`${row.route} (${row.action})`, { timeout: 60_000 }, async ({ expect }) => {
			const w = await worldWithLobby();
			const roomIds = [w.group, w.direct, w.open, w.lobby, `missing${w.group}`];
			const seen = new Set<Outcome>();
			const ask = async (user: { id: string; displayName: string } | null, roomId: string) => {
				const access = await loadRoomAccess(db(), roomId, user?.id ?? null);
				const decision = decideRoom(access, row.action);
				const expected = decision.ok ? ['ok', null] : [decision.status, decision.code];
				const before = await roomState(roomId);
				const got = await apiOutcome(user, row, roomId);
				const where = `${user?.displayName ?? 'nobody'} into ${roomId}`;
				expect(got, where).toEqual(expected);
				if (got[0] !== 'ok') expect(await roomState(roomId), `${where}: refused`).toBe(before);
				seen.add(got[0]);
			};
			// One person after another, so a refusal is seen to change nothing however others fared;
			// their rooms at once, each apart from the others. Alice owns the group and the lobby and
			// may delete them: she is asked last.
			const people = Object.values(w.person).filter((p) => p !== w.person.alice);
			for (const user of [null, ...people, w.person.alice]) {
				await Promise.all(roomIds.map((roomId) => ask(user, roomId)));
			}
			// Nobody signed in, a room one cannot see, a ban and an allowed caller are met by every
			// walk, so agreement is not agreement on one answer.
			expect([...seen]).toEqual(expect.arrayContaining(['ok', 401, 403, 404]));
			if (row.action === 'leave') expect([...seen]).toContain(409);
			if (row.action === 'edit' || row.action === 'delete') expect([...seen]).toContain(400);
		});
	}
});
