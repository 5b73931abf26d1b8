// The one sign-in guard: what a visitor who is not signed in gets from a page, a form and an API.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { isHttpError, isRedirect } from '@sveltejs/kit';
import { requireSignedIn } from '$lib/server/request-context';
import { validateSessionToken } from '$lib/server/auth/session';
import { removeMember } from '$lib/server/rooms/members';
import * as roomLayout from '../../../src/routes/rooms/[id]/+layout.server';
import * as roomPage from '../../../src/routes/rooms/[id]/+page.server';
import { countingD1, db, seedRoom } from '../../helpers';
import { rt, seedPerson, sessionFor } from '../../support/people';

function visit(path: string, method = 'GET') {
	const url = new URL(path, 'https://parley.test');
	return {
		locals: { user: null, session: null },
		platform: { env } as unknown as App.Platform,
		url,
		request: new Request(url, { method })
	};
}

function answer(run: () => unknown): string {
	try {
		run();
		return 'signed in';
	} catch (thrown) {
		if (isRedirect(thrown)) return `${thrown.status} ${thrown.location}`;
		if (isHttpError(thrown)) return `${thrown.status} ${thrown.body.message}`;
		throw thrown;
	}
}

describe('the sign-in guard', () => {
	it('sends a page visitor to log in and back to the page they asked for, query and all', () => {
		expect(answer(() => requireSignedIn(visit('/rooms/abc?m=42')))).toBe(
			'303 /login?next=%2Frooms%2Fabc%3Fm%3D42'
		);
	});

	it('brings a form back to its page, not to its action', () => {
		expect(answer(() => requireSignedIn(visit('/rooms/abc?/join', 'POST')))).toBe(
			'303 /login?next=%2Frooms%2Fabc'
		);
	});

	it('returns where the caller says when it knows better', () => {
		const event = visit('/auth/github/reauthenticate');
		expect(answer(() => requireSignedIn(event, { next: '/settings/account' }))).toBe(
			'303 /login?next=%2Fsettings%2Faccount'
		);
	});

	it('answers 401 to the JSON API, which cannot follow a login page', () => {
		expect(answer(() => requireSignedIn(visit('/api/rooms/abc/messages')))).toBe(
			'401 Sign in first.'
		);
	});

	it('needs the session as well as the user', () => {
		const event = visit('/people');
		const user = {
			id: 'u',
			username: 'u',
			displayName: 'U',
			email: 'u@x.test',
			emailVerified: true
		};
		expect(answer(() => requireSignedIn({ ...event, locals: { user, session: null } }))).toBe(
			'303 /login?next=%2Fpeople'
		);
	});

	it('is the only sign-in check in the routes', () => {
		const sources = import.meta.glob('/src/routes/**/*.server.ts', {
			query: '?raw',
			import: 'default',
			eager: true
		});
		expect(Object.keys(sources).length).toBeGreaterThan(20);
		const ownChecks = Object.entries(sources)
			.filter(([, source]) =>
				/!locals\.(user|session)\)\s*(redirect|error)\(|\/login\?next=/.test(source as string)
			)
			.map(([path]) => path);
		expect(ownChecks).toEqual([]);
	});
});

describe('room access in one request', () => {
	/** One request to the room page, as SvelteKit runs it: the layout's load, then the page's. */
	async function openRoomPage(token: string, roomId: string) {
		const { d1, counter } = countingD1(env.DB);
		const signedIn = await validateSessionToken(db(), token);
		const url = new URL(`https://parley.test/rooms/${roomId}`);
		const event = {
			locals: { user: signedIn.user, session: signedIn.session },
			params: { id: roomId },
			platform: { env: { ...env, DB: d1 } },
			url,
			request: new Request(url),
			depends: () => {},
			parent: () => layout(event)
		};
		const layout = roomLayout.load as unknown as (e: typeof event) => Promise<unknown>;
		const page = roomPage.load as unknown as (e: typeof event) => Promise<{ member: boolean }>;
		const [, data] = await Promise.all([layout(event), page(event)]);
		const accessReads = counter.statements.filter((sql) => sql.includes('room_bans')).length;
		return { member: data.member, accessReads };
	}

	it('is read once for the room layout and the page, and afresh by the next request', async () => {
		const alice = await seedPerson('alice');
		const bob = await seedPerson('bob');
		const room = await seedRoom(alice, bob);
		const token = await sessionFor(bob);

		expect(await openRoomPage(token, room)).toEqual({ member: true, accessReads: 1 });
		const removed = await removeMember(db(), rt(), alice, room, bob.id);
		expect(removed.ok).toBe(true);
		// A removed member's next request sees it: nothing outlives the request it was read in.
		await expect(openRoomPage(token, room)).rejects.toMatchObject({ status: 404 });
	});
});
