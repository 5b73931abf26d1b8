// A person holds a bounded number of sockets: to their hub (one per tab) and into each room. A
// tab turned away at a cap says why and does not retry in a loop that every retry would lose.
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { MAX_HUB_SOCKETS_PER_USER, MAX_ROOM_SOCKETS_PER_USER } from '$shared/protocol';
import { persona, signedInPage } from './support';
import { createRoom } from './ui-support';
import { expectConnected } from './realtime-support';

/**
 * Opens `count` sockets to `path` from the page at once (same origin, same cookie) and keeps them.
 * Answers each one's close code, or 0 if it is still open a while after opening: the close of a
 * socket turned away can take a couple of seconds to arrive through the local dev server.
 */
async function holdSockets(page: Page, path: string, count: number): Promise<number[]> {
	return page.evaluate(
		async ({ path, count }) => {
			const url = new URL(path, location.href);
			url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
			const held: WebSocket[] = [];
			(window as unknown as { held: WebSocket[] }).held = held;
			return Promise.all(
				Array.from(
					{ length: count },
					() =>
						new Promise<number>((resolve) => {
							const ws = new WebSocket(url);
							held.push(ws);
							ws.onclose = (event) => resolve(event.code);
							ws.onopen = () => setTimeout(() => resolve(0), 6000);
						})
				)
			);
		},
		{ path, count }
	);
}

/** Counts the sockets a page opens to a path from now on. */
function socketsTo(page: Page, path: string): { count: number } {
	const seen = { count: 0 };
	page.on('websocket', (ws) => {
		if (new URL(ws.url()).pathname === path) seen.count++;
	});
	return seen;
}

test('a tab past the hub socket cap says why and does not keep reconnecting', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	// Her tab's own hub socket first, welcomed: then it is one of these that is past the cap.
	const welcomed = alice
		.waitForEvent('websocket', (ws) => new URL(ws.url()).pathname === '/ws/me')
		.then((ws) => ws.waitForEvent('framereceived'));
	await alice.reload();
	await welcomed;
	const codes = await holdSockets(alice, '/ws/me', MAX_HUB_SOCKETS_PER_USER);
	expect(codes.filter((code) => code === 4008).length).toBeGreaterThanOrEqual(1);
	expect(codes.filter((code) => code === 0).length).toBeLessThanOrEqual(
		MAX_HUB_SOCKETS_PER_USER - 1
	);

	const another = await alice.context().newPage();
	const hubSockets = socketsTo(another, '/ws/me');
	await another.goto('/');
	await expect(another.getByRole('alert').filter({ hasText: 'Too many open tabs' })).toBeVisible();
	// The reconnect backoff starts under a second: a retry would have shown by now.
	await another.waitForTimeout(3000);
	expect(hubSockets.count).toBe(1);
});

test('a room opened past the room socket cap says why and does not keep reconnecting', async ({
	browser
}) => {
	const alice = await signedInPage(browser, persona('alice'));
	const path = await createRoom(alice, 'Capped room');
	const roomId = path.split('/').at(-1)!;
	await expectConnected(alice);
	// With the room page's own socket, one of these is past the cap and is turned away.
	const codes = await holdSockets(alice, `/ws/room/${roomId}`, MAX_ROOM_SOCKETS_PER_USER);
	expect(codes.filter((code) => code === 4008)).toHaveLength(1);
	expect(codes.filter((code) => code === 0)).toHaveLength(MAX_ROOM_SOCKETS_PER_USER - 1);

	const another = await alice.context().newPage();
	const roomSockets = socketsTo(another, `/ws/room/${roomId}`);
	await another.goto(path);
	await expect(
		another.getByRole('alert').filter({ hasText: 'Too many open connections to this room' })
	).toBeVisible();
	await another.waitForTimeout(3000);
	expect(roomSockets.count).toBe(1);
});
