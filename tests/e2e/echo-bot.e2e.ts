// The example bot (examples/echo-bot) against the real app: its person makes a token in settings,
// the bot listens over a token socket and answers through the API, and the person chatting with it
// in a browser sees its answers arrive live.
import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { message, peopleInRoom, say } from './realtime-support';

/** Makes a read-and-write token limited to one room in settings; answers its secret. */
async function makeToken(page: Page, room: string): Promise<string> {
	const settings = await page.context().newPage();
	await settings.goto('/settings/tokens');
	await settings.getByLabel('Name', { exact: true }).fill('Echo bot');
	await settings.getByRole('radio', { name: 'Read and write' }).check();
	await settings.getByRole('checkbox', { name: room }).check();
	await settings.getByRole('button', { name: 'Create token' }).click();
	const token = await settings.getByLabel('Your new token').inputValue();
	await settings.close();
	return token;
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

test('the echo bot answers in the room, live, through a token', async ({ browser, baseURL }) => {
	const [ana, robo] = await peopleInRoom(browser, ['ana', 'robo'], 'Echo chamber');
	const roomId = new URL(ana.page.url()).pathname.split('/').pop()!;
	const token = await makeToken(robo.page, 'Echo chamber');

	const bot = await startBot({ PARLEY_URL: baseURL!, PARLEY_TOKEN: token, PARLEY_ROOM: roomId });
	try {
		await say(ana.page, '!echo Hello there, bot');
		const answer = message(ana.page, /^Hello there, bot$/);
		await expect(answer).toBeVisible();
		// Robo's own tab shows the bot's words as Robo's, like anything else he sent.
		await expect(message(robo.page, /^Hello there, bot$/)).toBeVisible();
		// What is not a command gets no answer.
		await say(ana.page, 'just chatting');
		await say(ana.page, '!echo second');
		await expect(message(ana.page, /^second$/)).toBeVisible();
		// The answers come in order, so by now one to "just chatting" would have come too.
		await expect(message(ana.page, /just chatting/)).toHaveCount(1);
	} finally {
		bot.kill('SIGTERM');
	}
});
