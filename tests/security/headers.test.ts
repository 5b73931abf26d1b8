// The security headers the app's hooks add to every answer, driven in workerd. The
// Content-Security-Policy itself is SvelteKit's (from `kit.csp`), and sockets opening under it are
// SvelteKit's and the door's business: both are checked in a browser by tests/e2e/csp.e2e.ts.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { handleSecurityHeaders } from '$lib/server/security-headers';
import { registerPerson, signedInBrowser } from '../support/accounts';
import { TestBrowser } from '../support/request-event';

const page = () =>
	new Response('<!doctype html><title>Parley</title>', {
		headers: { 'content-type': 'text/html' }
	});
const json = () => Response.json({ messages: [] });

/** What the browser receives for `path` when the route itself answers `answer()`. */
async function through(
	browser: TestBrowser,
	path: string,
	answer: () => Response
): Promise<Response> {
	const outcome = await browser.call(
		(event) => handleSecurityHeaders({ event, resolve: async () => answer() }),
		{ path }
	);
	if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}`);
	return outcome.response;
}

describe('security headers', () => {
	it('every page and API answer forbids type sniffing and keeps paths from other sites', async () => {
		const alice = await signedInBrowser(await registerPerson('alice'));
		for (const [path, answer] of [
			['/rooms/r1', page],
			['/api/rooms/r1/messages', json],
			['/login', () => new Response(null, { status: 303, headers: { location: '/' } })]
		] as const) {
			const response = await through(alice, path, answer);
			expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
			expect(response.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
		}
	});

	it('only a production deployment pins browsers to HTTPS', async () => {
		const development = await through(new TestBrowser(), '/login', page);
		expect(development.headers.get('strict-transport-security')).toBeNull();

		const production = await through(
			new TestBrowser({ ...env, APP_ENV: 'production' }),
			'/login',
			page
		);
		expect(production.headers.get('strict-transport-security')).toBe('max-age=31536000');
	});

	it('an answer whose headers cannot be changed is copied, not dropped', async () => {
		const response = await through(new TestBrowser(), '/old', () =>
			Response.redirect('https://parley.test/new', 301)
		);
		expect(response.status).toBe(301);
		expect(response.headers.get('location')).toBe('https://parley.test/new');
		expect(response.headers.get('x-content-type-options')).toBe('nosniff');
	});
});
