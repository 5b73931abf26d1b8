// Settings → API tokens: making a token (its secret shown once, in the answer to the form and
// never again), the refusals that change nothing, and revoking only one's own.
import { describe, expect, it } from 'vitest';
import {
	authenticateToken,
	createToken,
	listTokens,
	TOKEN_PREFIX,
	type TokenSummary
} from '$lib/server/api/tokens';
import { actions, load } from '../../../../src/routes/settings/tokens/+page.server';
import { signedInBrowser } from '../../../support/accounts';
import { TestBrowser, type Outcome } from '../../../support/request-event';
import { db, seedRoom, seedUser } from '../../../helpers';

const PATH = '/settings/tokens';

type PageData = {
	tokens: (TokenSummary & { expired: boolean })[];
	rooms: { id: string; kind: string; name: string }[];
	lifetimes: string[];
};

async function loaded(browser: TestBrowser): Promise<PageData> {
	const outcome = await browser.call(load, { path: PATH });
	if (outcome.kind !== 'data') throw new Error(`expected data, got ${JSON.stringify(outcome)}`);
	return outcome.data as PageData;
}

function create(browser: TestBrowser, form: Record<string, string>): Promise<Outcome> {
	return browser.call(actions.create!, {
		path: `${PATH}?/create`,
		form: { scope: 'read', lifetime: '30d', ...form }
	});
}

async function someone() {
	const person = await seedUser('ana');
	return { person, browser: await signedInBrowser(person) };
}

describe('the API tokens page', () => {
	it('lists my tokens (no secrets), my rooms to limit one to, and the expiry choices', async () => {
		const { person, browser } = await someone();
		const roomId = await seedRoom(person);
		const made = await createToken(db(), person.id, {
			name: 'old',
			scope: 'write',
			lifetime: '7d'
		});
		if (!made.ok) throw new Error(made.message);
		// One made long ago, expired since.
		await createToken(
			db(),
			person.id,
			{ name: 'stale', scope: 'read', lifetime: '7d' },
			Date.now() - 8 * 86_400_000
		);
		const data = await loaded(browser);
		expect(data.tokens.map((t) => [t.name, t.scope, t.expired])).toEqual([
			['old', 'write', false],
			['stale', 'read', true]
		]);
		expect(data.rooms).toEqual([{ id: roomId, kind: 'group', name: 'Test room' }]);
		expect(data.lifetimes).toEqual(['7d', '30d', '90d', '1y', 'never']);
		expect(JSON.stringify(data)).not.toContain(TOKEN_PREFIX);
	});

	it('creates a token: the secret is in the answer once, works, and no later load shows it', async () => {
		const { person, browser } = await someone();
		const roomId = await seedRoom(person);
		const outcome = await create(browser, {
			name: '  Weather bot ',
			scope: 'write',
			lifetime: 'never',
			rooms: roomId
		});
		expect(outcome).toMatchObject({
			kind: 'data',
			data: { created: { name: 'Weather bot', token: expect.stringMatching(/^parley_pat_/) } }
		});
		const token = (outcome as { data: { created: { token: string } } }).data.created.token;

		const signedIn = await authenticateToken(db(), token);
		expect(signedIn?.user.id).toBe(person.id);
		expect(signedIn?.grant.scope).toBe('write');
		expect([...(signedIn?.grant.rooms ?? [])]).toEqual([roomId]);

		const data = await loaded(browser);
		expect(data.tokens).toMatchObject([
			{ name: 'Weather bot', scope: 'write', rooms: [roomId], expiresAt: null, expired: false }
		]);
		// Used just now, which the list says.
		expect(data.tokens[0]!.lastUsedAt).not.toBeNull();
		expect(JSON.stringify(data)).not.toContain(token);
	});

	it('refuses a nameless token, a room that is not mine, and made-up choices, keeping what was typed', async () => {
		const { person, browser } = await someone();
		const mine = await seedRoom(person);
		const stranger = await seedUser('sam');
		const theirs = await seedRoom(stranger);

		const nameless = await create(browser, { name: '   ', rooms: mine });
		expect(nameless).toMatchObject({
			kind: 'failure',
			status: 400,
			data: {
				values: { name: '   ', scope: 'read', lifetime: '30d' },
				rooms: [mine],
				errors: { form: expect.stringMatching(/Name the token/) }
			}
		});

		const tooLong = await create(browser, { name: 'x'.repeat(61) });
		expect(tooLong).toMatchObject({ kind: 'failure', status: 400 });

		const notMine = await create(browser, { name: 'Snoop', scope: 'write', rooms: theirs });
		expect(notMine).toMatchObject({
			kind: 'failure',
			status: 400,
			data: {
				values: { name: 'Snoop', scope: 'write' },
				rooms: [theirs],
				errors: { form: 'A token can be limited only to rooms you are in.' }
			}
		});

		const badScope = await create(browser, { name: 'Admin', scope: 'admin' });
		expect(badScope).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { values: { name: 'Admin', scope: 'admin' }, errors: { scope: expect.any(String) } }
		});
		const badLifetime = await create(browser, { name: 'Forever', lifetime: '100y' });
		expect(badLifetime).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { errors: { lifetime: expect.any(String) } }
		});

		expect(await listTokens(db(), person.id)).toEqual([]);
		expect(await listTokens(db(), stranger.id)).toEqual([]);
	});

	it('revokes my own token, and not anyone else’s', async () => {
		const { person, browser } = await someone();
		const other = await seedUser('bob');
		const mine = await createToken(db(), person.id, {
			name: 'mine',
			scope: 'read',
			lifetime: '30d'
		});
		const theirs = await createToken(db(), other.id, {
			name: 'theirs',
			scope: 'write',
			lifetime: '30d'
		});
		if (!mine.ok || !theirs.ok) throw new Error('no token');

		const refused = await browser.call(actions.revoke!, {
			path: `${PATH}?/revoke`,
			form: { id: theirs.summary.id }
		});
		expect(refused).toMatchObject({
			kind: 'failure',
			status: 404,
			data: { code: 'not_found' }
		});
		expect(await authenticateToken(db(), theirs.token)).not.toBeNull();
		expect(
			await browser.call(actions.revoke!, { path: `${PATH}?/revoke`, form: { id: '' } })
		).toMatchObject({ kind: 'failure', status: 400 });

		const revoked = await browser.call(actions.revoke!, {
			path: `${PATH}?/revoke`,
			form: { id: mine.summary.id }
		});
		expect(revoked).toMatchObject({ kind: 'data', data: { revoked: expect.any(String) } });
		expect(await authenticateToken(db(), mine.token)).toBeNull();
		expect((await loaded(browser)).tokens).toEqual([]);
		expect((await listTokens(db(), other.id)).map((t) => t.name)).toEqual(['theirs']);

		// Twice is nothing to revoke.
		expect(
			await browser.call(actions.revoke!, {
				path: `${PATH}?/revoke`,
				form: { id: mine.summary.id }
			})
		).toMatchObject({ kind: 'failure', status: 404 });
	});

	it('sends a signed-out visitor to log in, and makes or revokes nothing for them', async () => {
		const visitor = new TestBrowser();
		const toLogin = { kind: 'redirect', status: 303, location: '/login?next=%2Fsettings%2Ftokens' };
		expect(await visitor.call(load, { path: PATH })).toEqual(toLogin);
		expect(await create(visitor, { name: 'sneaky' })).toEqual(toLogin);
		const ana = await seedUser('ana');
		const hers = await createToken(db(), ana.id, { name: 'hers', scope: 'read', lifetime: '7d' });
		if (!hers.ok) throw new Error(hers.message);
		expect(
			await visitor.call(actions.revoke!, {
				path: `${PATH}?/revoke`,
				form: { id: hers.summary.id }
			})
		).toEqual(toLogin);
		expect(await authenticateToken(db(), hers.token)).not.toBeNull();
	});
});
