// What a signed-in page, form action or endpoint starts from, and the one guard that gives it.
import { error, fail, isHttpError, json, redirect, type ActionFailure } from '@sveltejs/kit';
import type { Denial } from './outcome';
import { getDb, platformEnv, type Db } from './db';
import { realtimeOf, type Realtime } from './realtime/effects';
import type { Session, SessionUser } from './auth/session';
import { loadRoomAccess, type RoomAccess } from './rooms/authz';

export type Signed = { user: SessionUser; session: Session; env: Env; db: Db; rt: Realtime };

/**
 * The sign-in guard of every page, form action and endpoint that needs a person: the signed-in
 * user and session (the hooks checked them) with the request's bindings. Anyone else is sent to
 * log in and brought back afterwards to the page they asked for (`next`, where a page knows a
 * better place to return to); a JSON endpoint under `/api/` answers 401 instead, as a script
 * cannot follow a login page.
 */
export function requireSignedIn(
	event: { locals: App.Locals; platform: App.Platform | undefined; url: URL; request: Request },
	options: { next?: string } = {}
): Signed {
	const { user, session } = event.locals;
	if (!user || !session) {
		if (event.url.pathname.startsWith('/api/')) error(401, 'Sign in first.');
		redirect(303, `/login?next=${encodeURIComponent(options.next ?? returnPath(event))}`);
	}
	const env = platformEnv(event.platform);
	return { user, session, env, db: getDb(env.DB), rt: realtimeOf(env) };
}

/** Where to come back to: the page with its query; a form's query names its action, so not that. */
function returnPath({ url, request }: { url: URL; request: Request }): string {
	return request.method === 'GET' ? url.pathname + url.search : url.pathname;
}

const accessByRequest = new WeakMap<App.Locals, Map<string, Promise<RoomAccess>>>();

/**
 * The visitor's access to a room, read once per request however many loads ask: the room layout
 * (for the theme) and the page under it (the room, its details, its theme settings) each need it,
 * and SvelteKit runs them in one request. For loads only: a form action changes what this reads,
 * and the loads after it must see the change, so actions read afresh (`authorizeRoom`).
 */
export function roomAccessFor(
	event: { locals: App.Locals; platform: App.Platform | undefined },
	roomId: string
): Promise<RoomAccess> {
	let byRoom = accessByRequest.get(event.locals);
	if (!byRoom) accessByRequest.set(event.locals, (byRoom = new Map()));
	let access = byRoom.get(roomId);
	if (!access) {
		const db = getDb(platformEnv(event.platform).DB);
		access = loadRoomAccess(db, roomId, event.locals.user?.id ?? null);
		byRoom.set(roomId, access);
	}
	return access;
}

/** What a refused form action answers: its status, and a `{code, message}` the page shows. */
export type Refusal = { code: string; message: string };

export function refuse(denial: Denial): ActionFailure<Refusal> {
	return fail(denial.status, { code: denial.code, message: denial.message });
}

/** A text field of a posted form ('' when missing or a file). */
export function field(form: FormData, name: string): string {
	const value = form.get(name);
	return typeof value === 'string' ? value : '';
}

/**
 * Whether a request came from another site's page. SvelteKit's own check covers only form posts;
 * a JSON write riding the person's cookie needs this one. Browsers always send `Origin` on such a
 * write, so a foreign one means another site; none means a script holding the cookie itself.
 */
export function isCrossSite(request: Request): boolean {
	const origin = request.headers.get('Origin');
	return origin !== null && origin !== new URL(request.url).origin;
}

/**
 * What a refused JSON request answers: `{ error: { code, message, details? } }` with the status.
 * `details` says more where a caller can act on it (which fields were wrong); `headers` go along
 * (`Retry-After`).
 */
export function jsonRefusal(
	status: number,
	code: string,
	message: string,
	more: { details?: unknown; headers?: Record<string, string> } = {}
): Response {
	const error =
		more.details === undefined ? { code, message } : { code, message, details: more.details };
	return json({ error }, { status, headers: more.headers });
}

/** `requireSignedIn`, with its refusal kept as a value, to answer it in an endpoint's own shape. */
export function signedInOrNull(event: Parameters<typeof requireSignedIn>[0]): Signed | null {
	try {
		return requireSignedIn(event);
	} catch (e) {
		if (isHttpError(e) && e.status === 401) return null;
		throw e;
	}
}

type AppEvent = Parameters<typeof requireSignedIn>[0];

/**
 * The guard of the web app's own JSON endpoints (under `/api/`, not the public API's `/api/v1`):
 * the signed-in person, or the refusal to answer, in their `{ error: { code, message } }` shape.
 * `change`: the request changes something, so it must come from this site's own page.
 */
export function signedForJson(event: AppEvent, { change = false } = {}): Signed | Response {
	const signed = signedInOrNull(event);
	if (!signed) return jsonRefusal(401, 'sign_in', 'Sign in first.');
	if (change && isCrossSite(event.request)) {
		return jsonRefusal(403, 'forbidden', 'This can only be done from this site.');
	}
	return signed;
}

/** `signedForJson` for a change that sends a JSON body: the person and the body, or the refusal. */
export async function signedJsonChange(
	event: AppEvent
): Promise<{ signed: Signed; body: unknown } | Response> {
	const signed = signedForJson(event, { change: true });
	if (signed instanceof Response) return signed;
	try {
		return { signed, body: await event.request.json() };
	} catch {
		return jsonRefusal(400, 'bad_input', 'The body must be JSON.');
	}
}
