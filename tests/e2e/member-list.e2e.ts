import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { befriend } from './people-support';
import {
	expectConnected,
	expectNotConnected,
	peopleInRoom,
	roomAction,
	setOffline
} from './realtime-support';
import { persona, signedInPage } from './support';
import { openDetails } from './ui-support';

/** Records what the room page's sockets send, as parsed frames. */
function framesSentBy(page: Page): { type?: unknown }[] {
	const sent: { type?: unknown }[] = [];
	page.on('websocket', (ws) => {
		ws.on('framesent', ({ payload }) => {
			if (typeof payload !== 'string' || !payload.startsWith('{')) return;
			sent.push(JSON.parse(payload) as { type?: unknown });
		});
	});
	return sent;
}

test('the member list asks the room for last-seen times the welcome leaves out, and shows them', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Last seen');
	await bob.page.close();

	// Alice comes back to the room later: a fresh page, a fresh welcome.
	const sent = framesSentBy(alice.page);
	await alice.page.reload();
	await expectConnected(alice.page);
	expect(sent.filter((f) => f.type === 'presence')).toHaveLength(0);

	await roomAction(alice.page, 'Members');
	const bobRow = alice.page
		.getByRole('complementary', { name: 'Members' })
		.getByRole('listitem')
		.filter({ hasText: 'Bob' });
	await expect(bobRow).toContainText(/Last seen (just now|1 min ago)/);
	await expect.poll(() => sent.filter((f) => f.type === 'presence').length).toBe(1);

	// Closing and opening the list again asks nothing more: presence frames keep it current.
	await roomAction(alice.page, 'Members');
	await roomAction(alice.page, 'Members');
	await expect(bobRow).toContainText(/Last seen/);
	expect(sent.filter((f) => f.type === 'presence')).toHaveLength(1);
});

test('member lists follow who is added and who is removed, without a reload', async ({
	browser
}) => {
	const [alice, bob] = await peopleInRoom(browser, ['alice', 'bob'], 'Book club');
	const roomUrl = alice.page.url();
	// Carol is Alice's friend, signed in elsewhere but not in the room.
	const carolWho = persona('carol');
	const carol = await signedInPage(browser, carolWho);
	await befriend(alice.page, 'Alice', carol, carolWho);

	// Bob watches the member list.
	await roomAction(bob.page, 'Members');
	const bobsList = bob.page.getByRole('complementary', { name: 'Members' }).getByRole('listitem');
	await expect(bobsList).toHaveCount(2);

	await openDetails(alice.page, roomUrl, 'members');
	await alice.page.getByLabel("Friend's username").fill(carolWho.username);
	await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
	await expect(bobsList.filter({ hasText: 'Carol' })).toContainText('Offline');
	const header = bob.page.getByRole('region', { name: 'Book club' }).getByText(/members? ·/);
	await expect(header).toContainText('3 members');

	await alice.page.getByRole('button', { name: 'Remove Carol' }).click();
	await expect(bobsList.filter({ hasText: 'Carol' })).toHaveCount(0);
	await expect(bobsList).toHaveCount(2);
	await expect(header).toContainText('2 members');

	// Bob's connection drops, and Alice adds Carol again meanwhile: he misses the room's news of it.
	// Back online, his welcome shows the membership changed and his list is loaded afresh.
	await setOffline(bob.page, true);
	await expectNotConnected(bob.page);
	await alice.page.getByLabel("Friend's username").fill(carolWho.username);
	await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
	await expect(alice.page.getByRole('button', { name: 'Remove Carol' })).toBeVisible();
	// The room sends membership news at most once a second: let it go out before Bob is back.
	await bob.page.waitForTimeout(1500);
	await setOffline(bob.page, false);
	await expectConnected(bob.page);
	await expect(bobsList.filter({ hasText: 'Carol' })).toContainText('Offline');
	await expect(header).toContainText('3 members');
});
