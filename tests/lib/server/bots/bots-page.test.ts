// The room details page's Bots section: its owner and admins add bots, give them a webhook and
// tokens (each secret in the answer to its form, once, and in no later load) and remove them;
// a plain member, a stranger and a direct conversation are refused, and a refusal changes nothing.
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { memberships, outgoingWebhooks, users } from '$shared/db/schema';
import { saveOutgoingWebhook } from '$lib/server/bots/outgoing-webhooks';
import { rt } from '../../../support/people';
import { authenticateToken, TOKEN_PREFIX } from '$lib/server/api/tokens';
import { listBots, MAX_BOTS_PER_ROOM, type BotSummary } from '$lib/server/bots/bots';
import { findOrCreateDirectRoom } from '$lib/server/rooms/direct-rooms';
import { actions, load } from '../../../../src/routes/rooms/[id]/details/+page.server';
import { signedInBrowser } from '../../../support/accounts';
import { type Outcome, type TestBrowser } from '../../../support/request-event';
import { db, seedRoom, seedUser, type Person } from '../../../helpers';

type Action = keyof typeof actions;
type PageData = {
	bots: (BotSummary & { tokens: { expired: boolean }[] })[];
	members: { id: string; kind: 'person' | 'bot' }[];
	botLimits: { maxName: number; maxBots: number; tokenLifetimes: string[] };
};

function act(
	browser: TestBrowser,
	roomId: string,
	action: Action,
	form: Record<string, string> = {}
): Promise<Outcome> {
	return browser.call(actions[action]!, {
		path: `/rooms/${roomId}/details?/${action}`,
		params: { id: roomId },
		form
	});
}

async function loaded(browser: TestBrowser, roomId: string): Promise<PageData> {
	const outcome = await browser.call(load, {
		path: `/rooms/${roomId}/details?tab=bots`,
		params: { id: roomId }
	});
	if (outcome.kind !== 'data') throw new Error(`expected data, got ${JSON.stringify(outcome)}`);
	return outcome.data as PageData;
}

/** Ana owns a group where Ben is an admin and Cleo a member; Sam is in no room of theirs. */
async function world() {
	const [ana, ben, cleo, sam] = await Promise.all(
		['ana', 'ben', 'cleo', 'sam'].map((name) => seedUser(name))
	);
	const roomId = await seedRoom(ana!, ben!, cleo!);
	await db().update(memberships).set({ role: 'admin' }).where(eq(memberships.userId, ben!.id));
	const browsers = Object.fromEntries(
		await Promise.all(
			Object.entries({ ana, ben, cleo, sam }).map(async ([name, person]) => [
				name,
				await signedInBrowser(person!)
			])
		)
	) as Record<'ana' | 'ben' | 'cleo' | 'sam', TestBrowser>;
	return { people: { ana: ana!, ben: ben!, cleo: cleo!, sam: sam! }, roomId, browsers };
}

const backToBots = (roomId: string) => ({
	kind: 'redirect',
	status: 303,
	location: `/rooms/${roomId}/details?tab=bots`
});

/** Adds a bot as `browser` and answers it, from the room's bots. */
async function addBot(browser: TestBrowser, roomId: string, name: string): Promise<BotSummary> {
	expect(await act(browser, roomId, 'addBot', { name })).toEqual(backToBots(roomId));
	const bot = (await listBots(db(), roomId)).find((b) => b.displayName === name.trim());
	if (!bot) throw new Error(`no bot ${name}`);
	return bot;
}

function secretOf(outcome: Outcome): { botId: string; kind: string; secret: string } {
	if (outcome.kind !== 'data') throw new Error(`expected data, got ${JSON.stringify(outcome)}`);
	return (outcome.data as { botSecret: { botId: string; kind: string; secret: string } }).botSecret;
}

describe('the Bots section of a room’s details', () => {
	it('lets the owner add a bot, a member of the room marked as a bot', async () => {
		const { roomId, browsers } = await world();
		const before = await loaded(browsers.ana, roomId);
		expect(before.bots).toEqual([]);
		expect(before.botLimits).toEqual({
			maxName: 40,
			maxBots: MAX_BOTS_PER_ROOM,
			tokenScopes: ['read', 'write'],
			tokenLifetimes: ['7d', '30d', '90d', '1y', 'never']
		});

		const bot = await addBot(browsers.ana, roomId, '  Deploys ');
		const data = await loaded(browsers.ana, roomId);
		expect(data.bots).toEqual([
			{
				id: bot.id,
				username: expect.stringMatching(/^deploys_bot/),
				displayName: 'Deploys',
				picture: null,
				createdAt: expect.any(Number),
				tokens: [],
				webhook: null,
				outgoing: null
			}
		]);
		expect(data.members.find((m) => m.id === bot.id)).toMatchObject({ kind: 'bot' });
	});

	it('gives a bot a webhook URL, shown once in the answer, replaced and deleted by an admin', async () => {
		const { roomId, browsers } = await world();
		const bot = await addBot(browsers.ben, roomId, 'Deploys');

		const made = secretOf(await act(browsers.ben, roomId, 'botWebhook', { botId: bot.id }));
		expect(made).toEqual({
			botId: bot.id,
			kind: 'webhook',
			secret: expect.stringMatching(/^https:\/\/parley\.test\/api\/v1\/hooks\/[^/]+\/[^/]+$/)
		});
		const secretPart = made.secret.split('/').pop()!;
		const data = await loaded(browsers.ben, roomId);
		expect(data.bots[0]!.webhook).toEqual({
			id: expect.any(String),
			createdAt: expect.any(Number),
			lastUsedAt: null
		});
		expect(JSON.stringify(data)).not.toContain(secretPart);
		expect(JSON.stringify(await loaded(browsers.ana, roomId))).not.toContain(secretPart);

		// Replacing it makes another address; the bot still has one webhook.
		const replaced = secretOf(await act(browsers.ana, roomId, 'botWebhook', { botId: bot.id }));
		expect(replaced.secret).not.toBe(made.secret);
		const hooks = (await listBots(db(), roomId)).map((b) => b.webhook);
		expect(hooks).toHaveLength(1);
		expect(hooks[0]).not.toBeNull();

		expect(await act(browsers.ben, roomId, 'deleteBotWebhook', { botId: bot.id })).toEqual(
			backToBots(roomId)
		);
		expect((await loaded(browsers.ben, roomId)).bots[0]!.webhook).toBeNull();
	});

	it('gives a bot an outgoing webhook: its signing secret once, then changed, and deleted', async () => {
		const { roomId, browsers } = await world();
		const bot = await addBot(browsers.ana, roomId, 'Deploys');
		const form = { botId: bot.id, url: ' https://hooks.example.com/parley ', events: 'messages' };

		const made = secretOf(await act(browsers.ben, roomId, 'botOutgoing', form));
		expect(made).toEqual({
			botId: bot.id,
			kind: 'signing',
			secret: expect.stringMatching(/^whsec_[a-z0-9]{32}$/)
		});
		const data = await loaded(browsers.ana, roomId);
		expect(data.bots[0]!.outgoing).toEqual({
			url: 'https://hooks.example.com/parley',
			events: 'messages',
			createdAt: expect.any(Number),
			failures: 0,
			lastError: null,
			lastDeliveredAt: null,
			disabledAt: null
		});
		expect(JSON.stringify(data)).not.toContain(made.secret);

		// A change keeps the secret the receiver checks with: nothing to show, back to the section.
		expect(await act(browsers.ana, roomId, 'botOutgoing', { ...form, events: 'mentions' })).toEqual(
			backToBots(roomId)
		);
		const [row] = await db()
			.select()
			.from(outgoingWebhooks)
			.where(eq(outgoingWebhooks.botId, bot.id));
		expect(row).toMatchObject({ events: 'mentions', secret: made.secret });

		expect(await act(browsers.ben, roomId, 'deleteBotOutgoing', { botId: bot.id })).toEqual(
			backToBots(roomId)
		);
		expect((await loaded(browsers.ben, roomId)).bots[0]!.outgoing).toBeNull();
	});

	it('refuses an outgoing webhook into the local network, or not https, keeping what was typed', async () => {
		const { roomId, browsers, people } = await world();
		const bot = await addBot(browsers.ana, roomId, 'Deploys');
		const cases: [Record<string, string>, string][] = [
			[
				{ url: 'http://hooks.example.com/x', events: 'messages' },
				'The address must be an https URL.'
			],
			[
				{ url: 'https://192.168.1.10/hook', events: 'messages' },
				'The address must be on the internet, not a local address.'
			],
			[
				{ url: 'https://169.254.169.254/latest', events: 'messages' },
				'The address must be on the internet, not a local address.'
			],
			[
				{ url: 'https://user:pw@hooks.example.com/', events: 'messages' },
				'The address must not carry credentials.'
			],
			[{ url: 'hooks.example.com', events: 'messages' }, 'The address must be a URL.'],
			[{ url: '   ', events: 'messages' }, 'Give the address to send to.'],
			[
				{ url: `https://hooks.example.com/${'x'.repeat(2000)}`, events: 'messages' },
				'That address is too long.'
			],
			[
				{ url: 'https://hooks.example.com/x', events: 'everything' },
				'Choose every message, or only those that mention the bot.'
			]
		];
		for (const [fields, message] of cases) {
			const outcome = await act(browsers.ana, roomId, 'botOutgoing', { botId: bot.id, ...fields });
			expect(outcome, fields.url).toEqual({
				kind: 'failure',
				status: 400,
				data: {
					bot: {
						action: 'botOutgoing',
						botId: bot.id,
						message,
						url: fields.url,
						events: fields.events
					}
				}
			});
		}
		expect((await listBots(db(), roomId))[0]!.outgoing).toBeNull();

		// Loopback is for development only: a deployment refuses it.
		const actor = { id: people.ana.id, displayName: 'Ana', username: people.ana.username };
		const local = { url: 'https://127.0.0.1:9000/hook', events: 'messages' };
		expect(
			await saveOutgoingWebhook(db(), rt(), actor, roomId, bot.id, local, { production: true })
		).toMatchObject({ ok: false, status: 400 });
		expect(
			await saveOutgoingWebhook(db(), rt(), actor, roomId, bot.id, local, { production: false })
		).toMatchObject({ ok: true, secret: expect.any(String) });
	});

	it('makes a bot a token limited to its room, shown once, and revokes it', async () => {
		const { roomId, browsers } = await world();
		const bot = await addBot(browsers.ana, roomId, 'Reporter');

		const made = secretOf(
			await act(browsers.ana, roomId, 'botToken', {
				botId: bot.id,
				scope: 'write',
				lifetime: '30d'
			})
		);
		expect(made).toMatchObject({ botId: bot.id, kind: 'token' });
		expect(made.secret.startsWith(TOKEN_PREFIX)).toBe(true);
		const signedIn = await authenticateToken(db(), made.secret);
		expect(signedIn?.user.id).toBe(bot.id);
		expect(signedIn?.grant.scope).toBe('write');
		expect([...(signedIn?.grant.rooms ?? [])]).toEqual([roomId]);

		const data = await loaded(browsers.ana, roomId);
		expect(data.bots[0]!.tokens).toEqual([
			expect.objectContaining({
				scope: 'write',
				rooms: [roomId],
				expiresAt: expect.any(Number),
				expired: false
			})
		]);
		expect(JSON.stringify(data)).not.toContain(made.secret);
		expect(JSON.stringify(data)).not.toContain(TOKEN_PREFIX);

		const tokenId = data.bots[0]!.tokens[0]!.id;
		expect(await act(browsers.ana, roomId, 'revokeBotToken', { botId: bot.id, tokenId })).toEqual(
			backToBots(roomId)
		);
		expect(await authenticateToken(db(), made.secret)).toBeNull();
		expect((await loaded(browsers.ana, roomId)).bots[0]!.tokens).toEqual([]);
	});

	it('refuses bad input beside its form, keeping what was typed, and makes nothing', async () => {
		const { roomId, browsers, people } = await world();
		const nameless = await act(browsers.ana, roomId, 'addBot', { name: '   ' });
		expect(nameless).toEqual({
			kind: 'failure',
			status: 400,
			data: {
				bot: {
					action: 'addBot',
					botId: '',
					name: '   ',
					message: expect.stringMatching(/Name the bot/)
				}
			}
		});
		expect(await act(browsers.ana, roomId, 'addBot', { name: 'x'.repeat(41) })).toMatchObject({
			kind: 'failure',
			status: 400,
			data: { bot: { name: 'x'.repeat(41) } }
		});
		expect(await listBots(db(), roomId)).toEqual([]);

		const bot = await addBot(browsers.ana, roomId, 'Deploys');
		for (const [scope, lifetime] of [
			['admin', '30d'],
			['read', '100y'],
			['', '']
		]) {
			expect(
				await act(browsers.ana, roomId, 'botToken', {
					botId: bot.id,
					scope: scope!,
					lifetime: lifetime!
				})
			).toMatchObject({
				kind: 'failure',
				status: 400,
				data: { bot: { action: 'botToken', botId: bot.id, message: expect.any(String) } }
			});
		}

		// A bot that is not this room's: none at all, a person, another room's bot.
		const other = await seedRoom(people.ana);
		const elsewhere = await addBot(browsers.ana, other, 'Elsewhere');
		for (const botId of ['', 'nope', people.cleo.id, elsewhere.id]) {
			for (const action of ['botWebhook', 'deleteBotWebhook', 'removeBot'] as const) {
				expect(await act(browsers.ana, roomId, action, { botId }), `${action} ${botId}`).toEqual({
					kind: 'failure',
					status: 404,
					data: { bot: { action, botId, message: 'This room has no such bot.' } }
				});
			}
		}
		// Another bot's token is not this bot's to revoke.
		const theirs = secretOf(
			await act(browsers.ana, other, 'botToken', {
				botId: elsewhere.id,
				scope: 'read',
				lifetime: '7d'
			})
		);
		const theirId = (await listBots(db(), other))[0]!.tokens[0]!.id;
		expect(
			await act(browsers.ana, roomId, 'revokeBotToken', { botId: bot.id, tokenId: theirId })
		).toMatchObject({ kind: 'failure', status: 404 });
		expect(await authenticateToken(db(), theirs.secret)).not.toBeNull();
		expect((await listBots(db(), roomId)).map((b) => [b.tokens, b.webhook])).toEqual([[[], null]]);
		expect(await listBots(db(), other)).toHaveLength(1);
	});

	it(`stops at ${MAX_BOTS_PER_ROOM} bots a room`, async () => {
		const { roomId, browsers } = await world();
		for (let i = 1; i <= MAX_BOTS_PER_ROOM; i++) await addBot(browsers.ana, roomId, `Bot ${i}`);
		expect(await act(browsers.ana, roomId, 'addBot', { name: 'One more' })).toMatchObject({
			kind: 'failure',
			status: 409,
			data: { bot: { action: 'addBot', name: 'One more' } }
		});
		expect(await listBots(db(), roomId)).toHaveLength(MAX_BOTS_PER_ROOM);
	});

	it('refuses a plain member and a stranger every action, and changes nothing', async () => {
		const { roomId, browsers } = await world();
		const bot = await addBot(browsers.ana, roomId, 'Deploys');
		const hook = secretOf(await act(browsers.ana, roomId, 'botWebhook', { botId: bot.id }));
		await act(browsers.ana, roomId, 'botOutgoing', {
			botId: bot.id,
			url: 'https://hooks.example.com/mine',
			events: 'mentions'
		});
		const token = secretOf(
			await act(browsers.ana, roomId, 'botToken', { botId: bot.id, scope: 'read', lifetime: '7d' })
		);
		const before = await listBots(db(), roomId);
		const tokenId = before[0]!.tokens[0]!.id;

		// The member sees no bots; the stranger sees no room.
		expect((await loaded(browsers.cleo, roomId)).bots).toEqual([]);
		expect(
			await browsers.sam.call(load, { path: `/rooms/${roomId}/details`, params: { id: roomId } })
		).toMatchObject({ kind: 'error', status: 404 });

		const attempts: [Action, Record<string, string>][] = [
			['addBot', { name: 'Sneaky' }],
			['botWebhook', { botId: bot.id }],
			['botToken', { botId: bot.id, scope: 'write', lifetime: 'never' }],
			['revokeBotToken', { botId: bot.id, tokenId }],
			['deleteBotWebhook', { botId: bot.id }],
			['botOutgoing', { botId: bot.id, url: 'https://hooks.example.com/x', events: 'messages' }],
			['deleteBotOutgoing', { botId: bot.id }],
			['removeBot', { botId: bot.id }]
		];
		for (const [who, status] of [
			['cleo', 403],
			['sam', 404]
		] as const) {
			for (const [action, form] of attempts) {
				const outcome = await act(browsers[who], roomId, action, form);
				expect(outcome, `${who} ${action}`).toMatchObject({ kind: 'failure', status });
				// Nothing secret in a refusal.
				expect(JSON.stringify(outcome)).not.toContain('botSecret');
			}
		}

		expect(await listBots(db(), roomId)).toEqual(before);
		expect(await authenticateToken(db(), token.secret)).not.toBeNull();
		expect(hook.secret).toContain(before[0]!.webhook!.id);
	});

	it('removes a bot: out of the room, its tokens and webhook gone, its account closed', async () => {
		const { roomId, browsers } = await world();
		const bot = await addBot(browsers.ana, roomId, 'Deploys');
		const token = secretOf(
			await act(browsers.ben, roomId, 'botToken', { botId: bot.id, scope: 'write', lifetime: '7d' })
		);
		await act(browsers.ben, roomId, 'botWebhook', { botId: bot.id });
		await act(browsers.ben, roomId, 'botOutgoing', {
			botId: bot.id,
			url: 'https://hooks.example.com/x',
			events: 'messages'
		});

		expect(await act(browsers.ben, roomId, 'removeBot', { botId: bot.id })).toEqual(
			backToBots(roomId)
		);
		expect(
			await db().select().from(outgoingWebhooks).where(eq(outgoingWebhooks.botId, bot.id))
		).toEqual([]);
		const data = await loaded(browsers.ana, roomId);
		expect(data.bots).toEqual([]);
		expect(data.members.map((m) => m.id)).not.toContain(bot.id);
		expect(await authenticateToken(db(), token.secret)).toBeNull();
		const [row] = await db().select().from(users).where(eq(users.id, bot.id));
		expect(row!.deletedAt).not.toBeNull();

		// Twice is no such bot.
		expect(await act(browsers.ana, roomId, 'removeBot', { botId: bot.id })).toMatchObject({
			kind: 'failure',
			status: 404
		});
	});

	it('has no bots in a direct conversation', async () => {
		const ana = await seedUser('ana');
		const ben: Person = await seedUser('ben');
		await db().update(users).set({ dmPolicy: 'everyone' }).where(eq(users.id, ben.id));
		const direct = await findOrCreateDirectRoom(db(), ana.id, ben.id);
		if (!direct.ok) throw new Error(direct.message);
		const browser = await signedInBrowser(ana);
		expect((await loaded(browser, direct.roomId)).bots).toEqual([]);
		expect(await act(browser, direct.roomId, 'addBot', { name: 'Deploys' })).toMatchObject({
			kind: 'failure',
			data: { bot: { action: 'addBot' } }
		});
		expect(await listBots(db(), direct.roomId)).toEqual([]);
	});
});
