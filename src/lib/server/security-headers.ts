import type { Handle } from '@sveltejs/kit';
import { isProduction } from './app-env';

/**
 * Headers for every answer SvelteKit makes: pages (whose Content-Security-Policy SvelteKit adds
 * itself, from `kit.csp`), form actions, the JSON API and errors. It must never see a WebSocket
 * upgrade: hooks.server.ts answers those before it.
 */
export const handleSecurityHeaders: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	const env = event.platform?.env;
	const headers: [string, string][] = [
		// A JSON answer or an upload is never run as a script or a page because of its content.
		['x-content-type-options', 'nosniff'],
		// Room and invite paths are nobody else's business: other sites learn only our origin.
		['referrer-policy', 'strict-origin-when-cross-origin']
	];
	// Only a deployment is surely served over HTTPS for good. A browser that once saw HSTS on a
	// developer's https://localhost would refuse plain http://localhost to every local server.
	if (env && isProduction(env)) headers.push(['strict-transport-security', 'max-age=31536000']);
	try {
		for (const [name, value] of headers) response.headers.set(name, value);
		return response;
	} catch {
		// A Response made by `fetch` or `Response.redirect` has immutable headers.
		const copy = new Response(response.body, response);
		for (const [name, value] of headers) copy.headers.set(name, value);
		return copy;
	}
};
