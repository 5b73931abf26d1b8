// Helpers for the realtime end-to-end tests: people in one room, each in a browser of their own.
import { expect, type Browser, type Locator, type Page } from '@playwright/test';
import { persona, signedInPage, type Persona } from './support';

export type Participant = { page: Page; who: Persona };

/** The first person creates a room; everyone else opens its link and joins. */
export async function peopleInRoom<const N extends readonly string[]>(
	browser: Browser,
	names: N,
	roomName: string
): Promise<{ [K in keyof N]: Participant }> {
	const people: Participant[] = [];
	for (const name of names) {
		const who = persona(name);
		people.push({ page: await signedInPage(browser, who), who });
	}
	const [host, ...guests] = people;
	await host!.page.getByLabel('New room').fill(roomName);
	await host!.page.getByRole('button', { name: 'Create room' }).click();
	await expect(host!.page.getByRole('heading', { name: roomName })).toBeVisible();
	for (const guest of guests) {
		await guest.page.goto(host!.page.url());
		await guest.page.getByRole('button', { name: 'Join room' }).click();
	}
	for (const person of people) await expectConnected(person.page);
	return people as { [K in keyof N]: Participant };
}

/** The room page's socket is open (the page says nothing then: it is on the room's section). */
export async function expectConnected(page: Page): Promise<void> {
	await expect(page.locator('section[data-connection]')).toHaveAttribute('data-connection', 'open');
}

/** The room page's socket is not open: connecting, waiting to reconnect, or closed for good. */
export async function expectNotConnected(page: Page): Promise<void> {
	await expect(page.locator('section[data-connection]')).not.toHaveAttribute(
		'data-connection',
		'open'
	);
}

/** Runs one of the room's actions (Members, Details, Chat theme) from its header's menu. */
export async function roomAction(page: Page, name: string): Promise<void> {
	await page.getByRole('button', { name: 'Room actions' }).click();
	const role = name === 'Members' ? 'menuitemcheckbox' : 'menuitem';
	await page.getByRole('menu', { name: 'Room actions' }).getByRole(role, { name }).click();
}

export function timeline(page: Page): Locator {
	return page.getByRole('log', { name: 'Messages' });
}

/** The message (in the timeline, not pending) whose words contain (or match) `text`. */
export function message(page: Page, text: string | RegExp): Locator {
	return timeline(page)
		.locator('li[data-seq]')
		.filter({ has: page.locator('.body', { hasText: text }) });
}

/**
 * Writes `text` in the composer and sends it with Enter. In a tab just loaded, the page may not
 * have hydrated yet, and Enter would only add a line break: the Send button, disabled as the
 * server renders it, is enabled once the page's code holds the words, so it waits for that (typing
 * the words again if they went in before the code could see them).
 */
export async function say(page: Page, text: string): Promise<void> {
	const box = page.getByRole('textbox', { name: 'Message' });
	const send = page.locator('form.composer').getByRole('button', { name: 'Send', exact: true });
	await expect(async () => {
		await box.fill(text);
		await expect(send).toBeEnabled({ timeout: 1000 });
	}).toPass();
	await box.press('Enter');
}

/** Runs one of the message's hover actions (Reply, Edit, Delete…). */
export async function act(page: Page, text: string, action: string): Promise<void> {
	const item = message(page, text);
	await item.hover();
	await item
		.getByRole('toolbar', { name: 'Message actions' })
		.getByRole('button', { name: action })
		.click();
}

/** Pretends the tab was hidden (or shown again), as when its person switches to another tab. */
export async function setTabHidden(page: Page, hidden: boolean): Promise<void> {
	await page.evaluate((hidden) => {
		Object.defineProperty(document, 'visibilityState', {
			configurable: true,
			get: () => (hidden ? 'hidden' : 'visible')
		});
		Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
		document.dispatchEvent(new Event('visibilitychange'));
	}, hidden);
}

/** The browser loses (or regains) the network, and says so as a real one would. */
export async function setOffline(page: Page, offline: boolean): Promise<void> {
	await page.context().setOffline(offline);
	await page.evaluate(
		(offline) => window.dispatchEvent(new Event(offline ? 'offline' : 'online')),
		offline
	);
}

/**
 * Sends many messages in order from a page, over a socket of its own, as fast as the room's rate
 * limit allows (a refused one is resent after the wait the room names).
 */
export async function sendMany(
	page: Page,
	bodies: string[],
	roomId = new URL(page.url()).pathname.split('/').at(-1)!
): Promise<void> {
	await page.evaluate(
		async ({ roomId, bodies }) => {
			const url = new URL(`/ws/room/${roomId}`, location.href);
			url.protocol = 'ws:';
			const ws = new WebSocket(url);
			await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
			const tag = Math.random().toString(36).slice(2);
			for (const [i, body] of bodies.entries()) {
				const clientId = `${tag}-${i}`;
				for (;;) {
					const answer = new Promise<{ type: string; retryAfterMs?: number }>((resolve) => {
						const listen = (event: MessageEvent) => {
							const data: unknown = JSON.parse(String(event.data));
							const frames = (Array.isArray(data) ? data : [data]) as {
								type: string;
								clientId?: string;
								retryAfterMs?: number;
							}[];
							const mine = frames.find((f) => f.clientId === clientId);
							if (!mine || (mine.type !== 'ack' && mine.type !== 'error')) return;
							ws.removeEventListener('message', listen);
							resolve(mine);
						};
						ws.addEventListener('message', listen);
					});
					ws.send(JSON.stringify({ type: 'send', clientId, body }));
					const frame = await answer;
					if (frame.type === 'ack') break;
					await new Promise((resolve) => setTimeout(resolve, frame.retryAfterMs ?? 500));
				}
			}
			ws.close();
		},
		{ roomId, bodies }
	);
}
