// Every route of the public API (`/api/v1`) is built here, from a spec that says who may call it
// and what it takes and answers. The same spec is the route's behaviour and its documentation:
// `openapi.ts` reads the specs off the route modules, so the document cannot describe a route
// other than the one that runs.
import { json, type RequestEvent, type RequestHandler } from '@sveltejs/kit';
import * as v from 'valibot';
import type { SessionUser } from '$lib/server/auth/session';
import { getDb, platformEnv, type Db } from '$lib/server/db';
import type { Actor, Denial } from '$lib/server/outcome';
import { consumeRateLimits, RateLimits } from '$lib/server/rate-limit';
import { realtimeOf, type Realtime } from '$lib/server/realtime/effects';
import { isCrossSite, jsonRefusal } from '$lib/server/request-context';
import {
	decideRoom,
	loadRoomAccess,
	type RoomAccess,
	type RoomAction
} from '$lib/server/rooms/authz';
import type { Room } from '$lib/server/rooms/rooms';
import { authenticateToken, type TokenGrant, type TokenScope } from './tokens';

/** The groups the reference lists routes under, in this order. */
export const API_TAGS = {
	Meta: 'The API itself.',
	Me: 'The signed-in person.',
	People: 'Finding people and their profiles.',
	Friends: 'Friends and friend requests.',
	Rooms: 'Conversations: groups, public rooms and direct conversations.',
	Members: 'Who is in a room, and their roles.',
	Invites: 'Invite links to a room.',
	Messages: 'A room’s history, and sending, editing, deleting and reacting.',
	Files: 'Uploading files to attach to messages, and downloading them.',
	Search: 'Searching messages, people and rooms.',
	Bots: 'Bots’ incoming webhooks: posting into a room from anywhere, with a secret address.'
} as const;
export type ApiTag = keyof typeof API_TAGS;

/**
 * Where a token limited to some rooms may call a route. `path`: the route is about the room in
 * its path (`{id}`), which must be one of the token's. `own`: the route answers within the token's
 * rooms by itself (the room list). Unset: the route is about the whole account, and such a token
 * may not call it.
 */
export type RoomLimit = 'path' | 'own';

/** Refusals a route documents besides the ones every route may answer. */
type Documented = Partial<Record<400 | 403 | 404 | 409 | 410 | 413 | 415 | 422 | 429, string>>;

type Schema = v.GenericSchema;
type Out<S> = S extends Schema ? v.InferOutput<S> : undefined;

export type Caller = {
	user: SessionUser;
	/** The person as operations name whoever acts. */
	actor: Actor;
	/** How they proved it: a session cookie (the web app, same site only) or a bearer token. */
	via: 'session' | 'token';
	/** The token's grant; null for a session, which may do anything its person may. */
	grant: TokenGrant | null;
};

export type ApiContext<P, Q, B> = Caller & {
	event: RequestEvent;
	db: Db;
	env: Env;
	rt: Realtime;
	params: P;
	query: Q;
	body: B;
	/**
	 * The room, if the caller may do `action` in it: the same rules as its pages (`decideRoom`),
	 * and for a token limited to some rooms, one of those. Refuses otherwise (thrown).
	 */
	room(roomId: string, action: RoomAction): Promise<RoomAccess & { room: Room }>;
};

export type EndpointSpec<
	P extends Schema | undefined,
	Q extends Schema | undefined,
	B extends Schema | undefined
> = {
	summary: string;
	description?: string;
	tag: ApiTag;
	/** `read`: a read-only token may call it. Anything that changes something is `write`. */
	scope: TokenScope;
	rooms?: RoomLimit;
	/** Nobody needs to sign in (the document itself). */
	public?: boolean;
	/** The path's parameters, as strings. */
	params?: P;
	/** The query string, as strings (transformed by the schema where they are numbers). */
	query?: Q;
	/** A JSON body. */
	body?: B;
	/** A body that is not JSON (a file's bytes): its media type and what it is, for the reference. */
	rawBody?: { mediaType: string; description: string };
	/** The answer when it works: its status (200 unless said) and body (none for 204). */
	status?: 200 | 201 | 204;
	response?: Schema;
	responseDescription?: string;
	errors?: Documented;
	handle: (ctx: ApiContext<Out<P>, Out<Q>, Out<B>>) => Promise<unknown>;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the specs of every route, whatever their schemas
export type AnySpec = EndpointSpec<any, any, any>;
export type ApiHandler = RequestHandler & { spec: AnySpec };

/** A refusal thrown from anywhere under a route: answered in the one JSON shape. */
export class ApiError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly details?: unknown,
		readonly headers?: Record<string, string>
	) {
		super(message);
	}
}

/** Throws an operation's denial as the API's refusal. */
export function refused(denial: Denial): never {
	throw new ApiError(denial.status, denial.code, denial.message);
}

/** An operation's outcome: what it made when it worked, its denial thrown when it did not. */
export function done<T extends { ok: boolean }>(outcome: T): Extract<T, { ok: true }> {
	if (!outcome.ok) refused(outcome as unknown as Denial);
	return outcome as Extract<T, { ok: true }>;
}

/** The details of a validation failure: where each problem is and what it is. */
function issuesOf(issues: v.BaseIssue<unknown>[]) {
	return issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }));
}

function parsed<S extends Schema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
	const result = v.safeParse(schema, input);
	if (result.success) return result.output;
	throw new ApiError(
		400,
		'bad_input',
		`The ${what} is not valid: ${result.issues[0].message}`,
		issuesOf(result.issues)
	);
}

async function jsonBody(request: Request): Promise<unknown> {
	const type = request.headers.get('content-type') ?? '';
	if (!/^application\/json\b/i.test(type)) {
		throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json.');
	}
	try {
		return await request.json();
	} catch {
		throw new ApiError(400, 'bad_json', 'The body is not valid JSON.');
	}
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Who is calling: the bearer token if one is given (and then only it), else the session. */
async function callerOf(event: RequestEvent, db: Db): Promise<Caller> {
	const authorization = event.request.headers.get('authorization');
	if (authorization !== null) {
		const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
		const found = token ? await authenticateToken(db, token) : null;
		if (!found) {
			throw new ApiError(
				401,
				'invalid_token',
				'The token is not valid: it may be mistyped, expired or revoked.',
				undefined,
				{
					'WWW-Authenticate': 'Bearer error="invalid_token"'
				}
			);
		}
		return { user: found.user, actor: actorOf(found.user), via: 'token', grant: found.grant };
	}
	const { user, session } = event.locals;
	if (!user || !session) {
		throw new ApiError(
			401,
			'sign_in',
			'Sign in, or send a token as `Authorization: Bearer <token>`.',
			undefined,
			{
				'WWW-Authenticate': 'Bearer'
			}
		);
	}
	// A cookie rides along with any site's request: a change must come from this site's pages.
	if (WRITES.has(event.request.method) && isCrossSite(event.request)) {
		throw new ApiError(
			403,
			'forbidden',
			'With a session cookie, this can only be done from this site.'
		);
	}
	return { user, actor: actorOf(user), via: 'session', grant: null };
}

function actorOf(user: SessionUser): Actor {
	return { id: user.id, displayName: user.displayName, username: user.username };
}

/** What a token's grant allows of this route; throws the refusal when it does not. */
function checkGrant(grant: TokenGrant | null, spec: AnySpec): void {
	if (!grant) return;
	if (spec.scope === 'write' && grant.scope !== 'write') {
		throw new ApiError(
			403,
			'insufficient_scope',
			'This token may only read; this needs a token with the write scope.'
		);
	}
	if (grant.rooms && !spec.rooms) {
		throw new ApiError(
			403,
			'token_rooms',
			'This token is limited to some rooms; this route is about the whole account.'
		);
	}
}

/** What the caller's grant allows of this route, and their rate; throws the refusal if not. */
async function admit(db: Db, caller: Caller, spec: AnySpec): Promise<void> {
	checkGrant(caller.grant, spec);
	const subject = caller.grant ? `token:${caller.grant.id}` : `user:${caller.user.id}`;
	const rate = await consumeRateLimits(db, [[RateLimits.apiPerCaller, subject]]);
	if (!rate.ok) throw tooFast(rate.retryAfterSeconds);
}

/** The refusal of a request over a rate: `429` with `Retry-After`. */
export function tooFast(retryAfterSeconds: number): ApiError {
	return new ApiError(
		429,
		'rate_limited',
		`Too many requests; try again in ${retryAfterSeconds} seconds.`,
		undefined,
		{ 'Retry-After': String(retryAfterSeconds) }
	);
}

/**
 * A route of the API./**
 * A route of the API. The handler it makes authenticates the caller, checks the token's grant,
 * counts the request against the caller's rate, validates the path, query and body, and answers
 * what `handle` returns as JSON (a `Response` as it is), or any refusal in the one error shape.
 */
export function endpoint<
	P extends Schema | undefined = undefined,
	Q extends Schema | undefined = undefined,
	B extends Schema | undefined = undefined
>(spec: EndpointSpec<P, Q, B>): ApiHandler {
	const handler: RequestHandler = async (event) => {
		const env = platformEnv(event.platform);
		const db = getDb(env.DB);
		try {
			// A public route (the document; a webhook's secret address) answers whoever calls; it is
			// validated like any other, and counts its own rate where it needs one.
			const caller = spec.public ? null : await callerOf(event, db);
			if (caller) await admit(db, caller, spec);
			const params = (
				spec.params ? parsed(spec.params, event.params, 'path') : undefined
			) as Out<P>;
			const query = (
				spec.query
					? parsed(spec.query, Object.fromEntries(event.url.searchParams), 'query')
					: undefined
			) as Out<Q>;
			const body = (
				spec.body ? parsed(spec.body, await jsonBody(event.request), 'body') : undefined
			) as Out<B>;
			const ctx = {
				...caller,
				event,
				env,
				db,
				rt: realtimeOf(env),
				params,
				query,
				body,
				room: async (roomId: string, action: RoomAction) => {
					if (!caller) throw new Error('a public route has no caller to authorize');
					if (caller.grant?.rooms && !caller.grant.rooms.has(roomId)) {
						throw new ApiError(403, 'token_rooms', 'This token is not allowed in that room.');
					}
					const access = await loadRoomAccess(db, roomId, caller.user.id);
					const decision = decideRoom(access, action);
					if (!decision.ok) refused(decision);
					return { ...access, room: access.room! };
				}
			} as ApiContext<Out<P>, Out<Q>, Out<B>>;
			return answer(spec, await spec.handle(ctx));
		} catch (err) {
			if (err instanceof ApiError) {
				return jsonRefusal(err.status, err.code, err.message, {
					details: err.details,
					headers: err.headers
				});
			}
			console.error(`[500] ${event.request.method} ${event.url.pathname}`, err);
			return jsonRefusal(500, 'internal', 'Something went wrong on our side; try again.');
		}
	};
	return Object.assign(handler, { spec: spec as AnySpec });
}

function answer(spec: AnySpec, out: unknown): Response {
	if (out instanceof Response) return out;
	const status = spec.status ?? 200;
	if (status === 204) return new Response(null, { status });
	return json(out, { status });
}
