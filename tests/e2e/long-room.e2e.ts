// A tab left open in a room that keeps talking (issue 21): its timeline holds a bounded window of
// the newest messages while its reader is at the bottom, and scrolling up pages the rest back in
// order, as they are now.
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { peopleInRoom, sendMany, timeline } from './realtime-support';

/** The timeline's message seqs, top to bottom. */
function seqsOf(page: Page): Promise<number[]> {
	return timeline(page)
		.locator('li[data-seq]')
		.evaluateAll((items) => items.map((item) => Number((item as HTMLElement).dataset.seq)));
}

/** Edits `body`'s message over a socket of the page's own, found through the history API. */
async function editOver(page: Page, roomId: string, body: string, edited: string): Promise<void> {
	await page.evaluate(
		async ({ roomId, body, edited }) => {
			const response = await fetch(`/api/rooms/${roomId}/messages?after=0`);
			const { messages } = (await response.json()) as { messages: { seq: number; body: string }[] };
			const seq = messages.find((m) => m.body === body)!.seq;
			const url = new URL(`/ws/room/${roomId}`, location.href);
			url.protocol = 'ws:';
			const ws = new WebSocket(url);
			await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
			const changed = new Promise<void>((resolve) =>
				ws.addEventListener('message', (event) => {
					const data: unknown = JSON.parse(String(event.data));
					const frames = (Array.isArray(data) ? data : [data]) as {
						type: string;
						message?: { seq: number };
					}[];
					if (frames.some((f) => f.type === 'update' && f.message?.seq === seq)) resolve();
				})
			);
			ws.send(JSON.stringify({ type: 'edit', seq, body: edited }));
			await changed;
			ws.close();
		},
		{ roomId, body, edited }
	);
}

test('a room that keeps talking keeps the open tab’s timeline bounded, and scrolling up brings the rest back in order', async ({
	browser
}) => {
	// 360 messages, each waiting for its ack, from three people: minutes on a loaded 2-core runner.
	test.setTimeout(360_000);
	const [alice, bob, carol, dave] = await peopleInRoom(
		browser,
		['alice', 'bob', 'carol', 'dave'],
		'Busy room'
	);
	const roomId = new URL(dave.page.url()).pathname.split('/').at(-1)!;
	// The senders write from a page outside the room (their sockets are their own): only Dave's
	// tab renders the conversation, as in a room whose other members are elsewhere.
	const senders = [alice, bob, carol];
	for (const { page } of senders) await page.goto('/settings/profile');
	const count = 120;
	// 360 messages arrive live while Dave's tab stays at the bottom.
	await Promise.all(
		senders.map(({ page }, who) =>
			sendMany(
				page,
				Array.from({ length: count }, (_, i) => `${['Alice', 'Bob', 'Carol'][who]} says ${i + 1}`),
				roomId
			)
		)
	);
	const log = timeline(dave.page);
	for (const name of ['Alice', 'Bob', 'Carol']) {
		await expect(
			log.locator('li[data-seq] .body', { hasText: `${name} says ${count}` })
		).toHaveCount(1);
	}
	const live = await seqsOf(dave.page);
	expect(live.length).toBeLessThanOrEqual(300);
	expect(live.every((seq, i) => i === 0 || seq === live[i - 1]! + 1)).toBe(true);
	await expect(log.locator('li[data-seq] .body', { hasText: /^\s*Alice says 1\s*$/ })).toHaveCount(
		0
	);

	// Alice edits her first message, long gone from Dave's window: paged back, it shows the edit.
	await editOver(alice.page, roomId, 'Alice says 1', 'Alice says 1, edited');

	// Up to the room's first message: every page back, the edit included.
	const older = dave.page.getByRole('button', { name: /older messages/ });
	await expect(async () => {
		await log.evaluate((el) => el.scrollTo({ top: 0 }));
		await expect(older).toHaveCount(0, { timeout: 1000 });
	}).toPass({ timeout: 60_000 });
	await expect(log.locator('li[data-seq] .body', { hasText: 'Alice says 1, edited' })).toHaveCount(
		1
	);
	const all = await seqsOf(dave.page);
	expect(all.length).toBeGreaterThan(live.length);
	expect(all.every((seq, i) => i === 0 || seq === all[i - 1]! + 1)).toBe(true);
	expect(all.at(-1)).toBe(live.at(-1));
	// Each person's messages in the order they were said.
	const bodies = await log.locator('li[data-seq] .body').allTextContents();
	for (const name of ['Bob', 'Carol']) {
		const said = bodies
			.map((b) => b.trim())
			.filter((b) => b.startsWith(`${name} says `))
			.map((b) => Number(b.slice(`${name} says `.length)));
		expect(said).toEqual(Array.from({ length: count }, (_, i) => i + 1));
	}

	// Back at the bottom, the window is bounded again.
	await expect(async () => {
		await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
		expect((await seqsOf(dave.page)).length).toBeLessThanOrEqual(300);
	}).toPass({ timeout: 10_000 });
});
