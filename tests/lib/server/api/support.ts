// Calling the public API as a script would: with a bearer token (or a signed-in browser's cookie),
// through the route handlers as SvelteKit runs them.
import type { RequestEvent } from '@sveltejs/kit';
import { createToken, type NewToken } from '$lib/server/api/tokens';
import { signedInBrowser } from '../../../support/accounts';
import { TestBrowser, type Call } from '../../../support/request-event';
import { db, type Person } from '../../../helpers';

export type Answer = {
	status: number;
	headers: Headers;
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read field by field
	body: any;
};

type Handler = (event: RequestEvent) => unknown;

/** Calls a handler and reads its JSON answer (an API handler always answers a Response). */
export async function call(browser: TestBrowser, handler: Handler, request: Call): Promise<Answer> {
	const outcome = await browser.call(handler, request);
	if (outcome.kind !== 'response')
		throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
	const text = await outcome.response.text();
	return {
		status: outcome.response.status,
		headers: outcome.response.headers,
		body: text ? JSON.parse(text) : null
	};
}

/** A script holding a token: no cookies, `Authorization: Bearer` on every call. */
export class TokenClient {
	readonly browser = new TestBrowser();
	constructor(readonly token: string) {}

	call(handler: Handler, request: Call): Promise<Answer> {
		return call(this.browser, handler, {
			...request,
			headers: { authorization: `Bearer ${this.token}`, ...request.headers }
		});
	}
}

/** A token for `person` (write, every room, 30 days unless said), and a client using it. */
export async function tokenFor(
	person: Person,
	input: Partial<NewToken> = {}
): Promise<TokenClient> {
	const made = await createToken(db(), person.id, {
		name: 'test',
		scope: 'write',
		lifetime: '30d',
		...input
	});
	if (!made.ok) throw new Error(made.message);
	return new TokenClient(made.token);
}

/** The person's browser, signed in: the web app's session cookie. */
export async function sessionFor(person: Person) {
	const browser = await signedInBrowser(person);
	return { call: (handler: Handler, request: Call) => call(browser, handler, request) };
}
