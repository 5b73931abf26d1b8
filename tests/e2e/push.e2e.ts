// Web Push end to end: a person with no tab open gets a direct message on their device. The push
// service is the tests' own on loopback (tests/support/push-service.ts), speaking the real
// protocol: it checks the VAPID signature against the key the server was started with and
// decrypts the message with the keys of the device it made.
import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';
import { befriend, openProfile, sendMessage, timeline } from './people-support';
import { expectConnected } from './realtime-support';
import { persona, signedInPage } from './support';
import { PushService } from '../support/push-service';

// This file is about what the service worker does: it runs here (playwright.config.ts blocks it).
test.use({ serviceWorkers: 'allow' });

/** The public key the realtime worker signs with: scripts/dev-vars.ts wrote it before the server started. */
function serverVapidKey(): string {
	const line = readFileSync('workers/realtime/.dev.vars', 'utf8')
		.split('\n')
		.find((l) => l.startsWith('VAPID_PUBLIC_KEY='));
	if (!line) throw new Error('workers/realtime/.dev.vars has no VAPID_PUBLIC_KEY');
	return line.slice('VAPID_PUBLIC_KEY='.length);
}

let service: PushService;
test.beforeAll(async () => {
	service = await PushService.start({ vapidPublicKey: serverVapidKey() });
});
test.afterAll(async () => {
	await service.close();
});

test('a direct message reaches the device of a person with no tab open, signed and encrypted', async ({
	browser
}) => {
	test.setTimeout(90_000);
	const aliceWho = persona('alice');
	const bobWho = persona('bob');
	const alice = await signedInPage(browser, aliceWho);
	const bob = await signedInPage(browser, bobWho);
	await befriend(alice, 'Alice', bob, bobWho);

	// Bob's browser subscribes a device of the push service, as the settings page would.
	const device = service.subscribe();
	const subscribed = await bob.request.post('/api/push/subscriptions', {
		data: { endpoint: device.endpoint, keys: device.keys, label: 'Test device' }
	});
	expect(subscribed.status(), await subscribed.text()).toBe(201);
	const listed = (await (await bob.request.get('/api/push/subscriptions')).json()) as {
		subscriptions: { label: string }[];
	};
	expect(listed.subscriptions.map((s) => s.label)).toEqual(['Test device']);

	// Bob closes Parley, and stays away past his hub's offline grace.
	await bob.context().close();
	await alice.waitForTimeout(6_000);

	await openProfile(alice, bobWho);
	await alice.getByRole('button', { name: 'Message' }).click();
	await expectConnected(alice);
	const roomId = /\/rooms\/([^/?#]+)/.exec(alice.url())?.[1];
	expect(roomId).toBeTruthy();
	await sendMessage(alice, 'Lunch at noon?');
	await expect(timeline(alice).getByText('Lunch at noon?')).toBeVisible();

	await expect
		.poll(() => service.delivered(device.id).length, { timeout: 15_000 })
		.toBeGreaterThan(0);
	expect(service.rejected).toEqual([]);
	const [pushed] = service.delivered(device.id).map((d) => JSON.parse(d) as unknown);
	expect(pushed).toEqual({
		tag: `room:${roomId}`,
		title: 'Alice',
		body: 'Lunch at noon?',
		url: expect.stringMatching(new RegExp(`^/rooms/${roomId}\\?m=\\d+$`)),
		count: 1,
		at: expect.any(Number)
	});
});
