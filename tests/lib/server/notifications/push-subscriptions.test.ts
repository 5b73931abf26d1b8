// The subscription API: this browser's Web Push subscription, the device list, removal.
import { describe, expect, inject, it } from 'vitest';
import type { RequestEvent } from '@sveltejs/kit';
import { eq } from 'drizzle-orm';
import { pushSubscriptions } from '$shared/db/schema';
import { endpointHash, MAX_PUSH_SUBSCRIPTIONS } from '$lib/server/notifications/push-subscriptions';
import { GET, POST } from '../../../../src/routes/api/push/subscriptions/+server';
import { DELETE } from '../../../../src/routes/api/push/subscriptions/[id]/+server';
import { db, type Person } from '../../../helpers';
import { seedPerson } from '../../../support/people';
import { signedInBrowser } from '../../../support/accounts';
import { TestBrowser } from '../../../support/request-event';
import { PushServiceClient, type PushDevice } from '../../../support/push-client';

const pushService = () => new PushServiceClient(inject('pushServicePort'));

type Answer = { status: number; body: unknown };

async function answerOf(outcome: Awaited<ReturnType<TestBrowser['call']>>): Promise<Answer> {
	if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}`);
	const { response } = outcome;
	return { status: response.status, body: response.status === 204 ? null : await response.json() };
}

function subscribe(
	browser: TestBrowser,
	body: unknown,
	options: { origin?: string; appEnv?: 'production' | 'development' } = {}
): Promise<Answer> {
	const origin = options.origin ?? 'https://parley.test';
	return browser
		.call(
			(event: RequestEvent) =>
				POST({
					...event,
					request: new Request('https://parley.test/api/push/subscriptions', {
						method: 'POST',
						headers: { 'content-type': 'application/json', origin },
						body: typeof body === 'string' ? body : JSON.stringify(body)
					})
				} as Parameters<typeof POST>[0]),
			{
				path: '/api/push/subscriptions',
				method: 'POST',
				env: options.appEnv ? { APP_ENV: options.appEnv } : undefined
			}
		)
		.then(answerOf);
}

function list(browser: TestBrowser): Promise<Answer> {
	return browser
		.call((event) => GET(event as Parameters<typeof GET>[0]), { path: '/api/push/subscriptions' })
		.then(answerOf);
}

function remove(browser: TestBrowser, id: string, origin = 'https://parley.test'): Promise<Answer> {
	return browser
		.call(
			(event: RequestEvent) =>
				DELETE({
					...event,
					request: new Request(`https://parley.test/api/push/subscriptions/${id}`, {
						method: 'DELETE',
						headers: { origin }
					})
				} as Parameters<typeof DELETE>[0]),
			{ path: `/api/push/subscriptions/${id}`, params: { id } }
		)
		.then(answerOf);
}

const rowsOf = (person: Person) =>
	db().select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, person.id));

/** A device's subscription as a browser would post it, with a label. */
const bodyOf = (device: PushDevice, label = 'Chromium on Linux') => ({
	endpoint: device.endpoint,
	keys: device.keys,
	label
});

describe('POST /api/push/subscriptions', () => {
	it('adds this browser (201), updates it when posted again (200), and lists it without its keys', async () => {
		const ann = await seedPerson('ann');
		const browser = await signedInBrowser(ann);
		const device = await pushService().subscribe();

		const added = await subscribe(browser, bodyOf(device));
		expect(added.status).toBe(201);
		const { id } = added.body as { id: string };
		const again = await subscribe(browser, bodyOf(device, 'Renamed'));
		expect(again).toEqual({ status: 200, body: { id } });

		const listed = await list(browser);
		expect(listed.status).toBe(200);
		expect(listed.body).toEqual({
			subscriptions: [
				{
					id,
					label: 'Renamed',
					createdAt: expect.any(Number),
					lastUsedAt: null,
					endpointHash: endpointHash(device.endpoint)
				}
			]
		});
		expect(JSON.stringify(listed.body)).not.toContain(device.keys.auth);
		expect(await rowsOf(ann)).toHaveLength(1);
	});

	it('refuses bad input with a clear 400 and stores nothing', async () => {
		const ann = await seedPerson('ann');
		const browser = await signedInBrowser(ann);
		const device = await pushService().subscribe();
		const good = bodyOf(device);
		const cases: [unknown, RegExp][] = [
			['not json', /JSON/],
			[{ ...good, endpoint: 'http://push.example.com/x' }, /https/],
			[{ ...good, endpoint: 'not a url' }, /URL/],
			[{ ...good, endpoint: 'https://10.0.0.8/push/1' }, /local address/],
			[{ ...good, endpoint: 'https://192.168.1.2/push/1' }, /local address/],
			[{ ...good, endpoint: 'https://[fe80::1]/push/1' }, /local address/],
			[{ ...good, endpoint: 'https://169.254.169.254/latest' }, /local address/],
			[{ ...good, keys: { ...good.keys, p256dh: 'not+base64/url' } }, /base64url/],
			[{ ...good, keys: { ...good.keys, p256dh: good.keys.auth } }, /65 bytes/],
			[{ ...good, keys: { ...good.keys, auth: good.keys.p256dh } }, /16 bytes/],
			[{ endpoint: good.endpoint }, /keys/]
		];
		for (const [body, message] of cases) {
			const answer = await subscribe(browser, body);
			expect(answer.status, JSON.stringify(body)).toBe(400);
			const { error } = answer.body as { error: { code: string; message: string } };
			expect(error.code).toBe('bad_input');
			expect(error.message).toMatch(message);
		}
		expect(await rowsOf(ann)).toEqual([]);
	});

	it('takes a loopback endpoint in development only', async () => {
		const ann = await seedPerson('ann');
		const browser = await signedInBrowser(ann);
		const device = await pushService().subscribe();
		const production = await subscribe(browser, bodyOf(device), { appEnv: 'production' });
		expect(production.status).toBe(400);
		expect(await rowsOf(ann)).toEqual([]);
		const development = await subscribe(browser, bodyOf(device), { appEnv: 'development' });
		expect(development.status).toBe(201);
	});

	it('refuses the signed-out (401) and another site (403)', async () => {
		const ann = await seedPerson('ann');
		const device = await pushService().subscribe();
		const signedOut = await subscribe(new TestBrowser(), bodyOf(device));
		expect(signedOut.status).toBe(401);
		const browser = await signedInBrowser(ann);
		const crossSite = await subscribe(browser, bodyOf(device), {
			origin: 'https://evil.example'
		});
		expect(crossSite.status).toBe(403);
		expect(await rowsOf(ann)).toEqual([]);
	});

	it(`stops at ${MAX_PUSH_SUBSCRIPTIONS} devices, but an existing one may still update`, async () => {
		const ann = await seedPerson('ann');
		const browser = await signedInBrowser(ann);
		const service = pushService();
		const devices = await Promise.all(
			Array.from({ length: MAX_PUSH_SUBSCRIPTIONS + 1 }, () => service.subscribe())
		);
		for (const device of devices.slice(0, MAX_PUSH_SUBSCRIPTIONS)) {
			expect((await subscribe(browser, bodyOf(device))).status).toBe(201);
		}
		const refused = await subscribe(browser, bodyOf(devices.at(-1)!));
		expect(refused.status).toBe(409);
		expect(refused.body).toMatchObject({ error: { code: 'too_many_devices' } });
		expect((await subscribe(browser, bodyOf(devices[0]!, 'Again'))).status).toBe(200);
		expect(await rowsOf(ann)).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);
	});

	it('a browser signed in by someone else moves to them', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const device = await pushService().subscribe();
		await subscribe(await signedInBrowser(ann), bodyOf(device));
		const moved = await subscribe(await signedInBrowser(bob), bodyOf(device));
		expect(moved.status).toBe(200);
		expect(await rowsOf(ann)).toEqual([]);
		expect(await rowsOf(bob)).toHaveLength(1);
	});
});

describe('DELETE /api/push/subscriptions/<id>', () => {
	it('removes my device (204); nobody else can remove it', async () => {
		const ann = await seedPerson('ann');
		const bob = await seedPerson('bob');
		const annBrowser = await signedInBrowser(ann);
		const device = await pushService().subscribe();
		const { id } = (await subscribe(annBrowser, bodyOf(device))).body as { id: string };

		const bobs = await remove(await signedInBrowser(bob), id);
		expect(bobs.status).toBe(404);
		expect(await remove(new TestBrowser(), id)).toMatchObject({ status: 401 });
		expect(await remove(annBrowser, id, 'https://evil.example')).toMatchObject({ status: 403 });
		expect(await rowsOf(ann)).toHaveLength(1);

		expect(await remove(annBrowser, id)).toEqual({ status: 204, body: null });
		expect(await rowsOf(ann)).toEqual([]);
		expect((await remove(annBrowser, id)).status).toBe(404);
	});
});
