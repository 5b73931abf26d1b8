import { expect, test, type Page } from '@playwright/test';
import { peopleInRoom } from './realtime-support';

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
	await expect(alice.page.getByRole('status')).toHaveText('Connected');
	expect(sent.filter((f) => f.type === 'presence')).toHaveLength(0);

	await alice.page.getByRole('button', { name: 'Members' }).click();
	const bobRow = alice.page
		.getByRole('complementary', { name: 'Members' })
		.getByRole('listitem')
		.filter({ hasText: 'Bob' });
	await expect(bobRow).toContainText(/Last seen (just now|1 min ago)/);
	await expect.poll(() => sent.filter((f) => f.type === 'presence').length).toBe(1);

	// Closing and opening the list again asks nothing more: presence frames keep it current.
	await alice.page.getByRole('button', { name: 'Members' }).click();
	await alice.page.getByRole('button', { name: 'Members' }).click();
	await expect(bobRow).toContainText(/Last seen/);
	expect(sent.filter((f) => f.type === 'presence')).toHaveLength(1);
});
