// What a signed-in page or action of the people-and-conversations routes starts from.
import { fail, redirect, type ActionFailure } from '@sveltejs/kit';
import type { Denial } from './rooms/authz';
import { getDb, platformEnv, type Db } from './db';
import { realtimeOf, type Realtime } from './realtime/effects';
import type { SessionUser } from './auth/session';

export type Signed = { user: SessionUser; db: Db; rt: Realtime };

/** The signed-in user with the request's bindings; anyone else is sent to log in first. */
export function requireSignedIn(event: {
	locals: App.Locals;
	platform: App.Platform | undefined;
	url: URL;
}): Signed {
	const user = event.locals.user;
	if (!user) redirect(303, `/login?next=${encodeURIComponent(event.url.pathname)}`);
	const env = platformEnv(event.platform);
	return { user, db: getDb(env.DB), rt: realtimeOf(env) };
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
