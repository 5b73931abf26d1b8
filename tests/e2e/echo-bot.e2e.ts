// The example bot (examples/echo-bot) against the real app: a room's owner adds a bot in the room's
// details and makes it a token; the bot listens over a token socket and answers through the API,
// and the owner chatting with it in the browser sees its answers arrive live, marked as a bot's.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { expectConnected, message, say } from './realtime-support';
import { persona } from './support';
import { createRoom, personAt } from './ui-support';

/** Adds a bot to the room and makes it a read-and-write token; answers the token. */
async function botToken(page: Page, room: string, name: string): Promise<string> {
	await page.goto(`${room}/details?tab=bots`);
	const panel = page.getByRole('tabpanel', { name: 'Bots' });
	await panel.getByLabel('Name').fill(name);
	await panel.getByRole('button', { name: 'Add bot' }).click();
	const card = panel.getByRole('article', { name: new RegExp(`^${name}`) });
	await card.getByLabel('Access').selectOption({ label: 'Read and write' });
	await card.getByRole('button', { name: 'Create token' }).click();
	return card.getByRole('textbox', { name: `New token for ${name}` }).inputValue();
}

/** Starts the bot and waits until it says it is listening. */
async function startBot(env: Record<string, string>): Promise<ChildProcess> {
	const bot = spawn(
		process.execPath,
		['--experimental-strip-types', '--no-warnings', 'examples/echo-bot/echo-bot.ts'],
		{ env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }
	);
	let output = '';
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`the bot did not start:\n${output}`)), 15_000);
		const read = (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes('listening in room')) {
				clearTimeout(timer);
				resolve();
			}
		};
		bot.stdout!.on('data', read);
		bot.stderr!.on('data', read);
		bot.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`the bot exited (${code}):\n${output}`));
		});
	});
	return bot;
}

test('the echo bot answers in its room, live, as a bot', async ({ browser, baseURL }) => {
	const page = await personAt(browser, persona('ana'), 'desktop');
	const room = await createRoom(page, 'Echo chamber');
	const token = await botToken(page, room, 'Echo');
	const bot = await startBot({
		PARLEY_URL: baseURL!,
		PARLEY_TOKEN: token,
		PARLEY_ROOM: room.split('/').pop()!
	});
	try {
		await page.goto(room);
		await expectConnected(page);
		await say(page, '!echo Hello there, bot');
		const answer = message(page, /^Hello there, bot$/);
		await expect(answer).toBeVisible();
		await expect(answer.locator('.author')).toHaveText(/^\s*Echo\s+Bot\s*$/);
		// What is not a command gets no answer; the answers come in order, so by the time the
		// second command's has come, one to "just chatting" would have too.
		await say(page, 'just chatting');
		await say(page, '!echo second');
		await expect(message(page, /^second$/)).toBeVisible();
		await expect(message(page, /just chatting/)).toHaveCount(1);
	} finally {
		bot.kill('SIGTERM');
	}
});
