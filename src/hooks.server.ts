import { error, type Handle, type HandleServerError } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { getDb } from '$lib/server/db';
import { openRealtimeSocket } from '$lib/server/realtime/door';
import { handleSecurityHeaders } from '$lib/server/security-headers';
import { provideMarkdown } from '$lib/markdown-renderer';
import { renderMarkdown } from '$shared/markdown';
import {
	SESSION_COOKIE,
	deleteSessionTokenCookie,
	setSessionTokenCookie,
	validateSessionToken
} from '$lib/server/auth/session';

// Pages render messages' Markdown on the server; the browser loads the renderer after hydration.
provideMarkdown(renderMarkdown);

/**
 * WebSocket upgrades are answered here, before `resolve`: SvelteKit rewrites the responses that
 * pass through it (headers, cookies), and a 101 cannot be rewritten. So no cookie is set here.
 */
const handleRealtime: Handle = async ({ event, resolve }) => {
	if (!event.url.pathname.startsWith('/ws/')) return resolve(event);
	const env = event.platform?.env;
	if (!env) error(500, 'The realtime service is not available.');
	return openRealtimeSocket(
		event.request,
		{ db: getDb(env.DB), rooms: env.ROOMS, hubs: env.HUBS },
		event.cookies.get(SESSION_COOKIE)
	);
};

const handleSession: Handle = async ({ event, resolve }) => {
	event.locals.user = null;
	event.locals.session = null;
	const token = event.cookies.get(SESSION_COOKIE);
	const env = event.platform?.env;
	if (token && env) {
		const { session, user, renewed } = await validateSessionToken(getDb(env.DB), token);
		if (session) {
			event.locals.user = user;
			event.locals.session = session;
			if (renewed) setSessionTokenCookie(event.cookies, token, session.expiresAt);
		} else {
			deleteSessionTokenCookie(event.cookies);
		}
	}
	return resolve(event);
};

// The security headers come after the realtime door, so a socket's 101 never reaches them.
export const handle = sequence(handleRealtime, handleSecurityHeaders, handleSession);

/**
 * SvelteKit calls this for every error it did not expect, which includes its own 404 for a path no
 * route matches and 405 for a method a route lacks: those are the visitor's doing (a mistyped link,
 * a browser asking for an icon, a crawler) and the error page says so; logging them as errors
 * buries the real ones. Only a server fault (5xx) is logged, with its stack. SvelteKit still shows
 * the visitor its usual `message`, which names no detail of the fault.
 */
export const handleError: HandleServerError = ({ error, event, status }) => {
	if (status < 500) return;
	console.error(`[${status}] ${event.request.method} ${event.url.pathname}`, error);
};
