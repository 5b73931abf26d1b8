// Screenshots of Parley's main screens, light and dark, desktop and phone, into docs/screenshots/.
// Starts its own app (fresh local state), signs up demo people through the real forms and fills a
// room with a few messages. Run: npm run screenshots  (PARLEY_SCREENSHOT_PORT to pick the port;
// `-- --reuse-build` skips the build when .svelte-kit/cloudflare is current; PARLEY_BASE_URL uses an
// app that is already running instead of starting one).
import { existsSync, mkdirSync } from 'node:fs';
import {
	chromium,
	devices,
	type Browser,
	type BrowserContextOptions,
	type Page
} from '@playwright/test';
import { linkFromOutbox } from '../tests/e2e/accounts-support.ts';
import { startApp } from './lib/app-server.ts';

const port = Number(process.env.PARLEY_SCREENSHOT_PORT ?? 8799);
const out = 'docs/screenshots';

const systemChromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) =>
	existsSync(p)
);

const DEVICES: Record<'desktop' | 'phone', BrowserContextOptions> = {
	desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
	phone: { ...devices['Pixel 7'], deviceScaleFactor: 2 }
};
const THEMES = ['light', 'dark'] as const;

const tag = Date.now().toString(36).slice(-4);

async function signUp(browser: Browser, base: string, name: string, displayName: string) {
	const context = await browser.newContext({ baseURL: base });
	context.setDefaultTimeout(120_000);
	const page = await context.newPage();
	const username = `${name}_${tag}`;
	await page.goto('/register');
	await page.getByLabel('Email').fill(`${username}@example.test`);
	await page.getByLabel('Username').fill(username);
	await page.getByLabel('Display name').fill(displayName);
	await page.getByLabel('Password').fill(`${name} has a long password`);
	await page.getByRole('button', { name: 'Create account' }).click();
	await page.getByText('Check your inbox').waitFor();
	// The account exists once the mailed link is opened, as a person would from their mail.
	const address = `${username}@example.test`;
	await page.goto(await linkFromOutbox(page, address, 'Finish creating your Parley account'));
	await page.getByRole('button', { name: 'Create my account' }).click();
	await page.waitForURL((url) => url.pathname === '/');
	return { page, username, displayName };
}

async function createRoom(page: Page, name: string): Promise<string> {
	await page.goto('/');
	await page.getByLabel('New room').fill(name);
	await page.getByRole('button', { name: 'Create room' }).click();
	await page.waitForURL(/\/rooms\//);
	return new URL(page.url()).pathname;
}

async function say(page: Page, text: string) {
	const box = page.getByRole('textbox', { name: 'Message' });
	// The timeline shows the words rendered (Markdown, emoji), not as typed: wait for one more item.
	const items = page.getByRole('log').locator('li[data-seq]');
	const before = await items.count();
	await box.fill(text);
	await box.press('Enter');
	await items.nth(before).waitFor();
}

async function join(page: Page, path: string) {
	await page.goto(path);
	await page.getByRole('button', { name: 'Join room' }).click();
	await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

async function main() {
	mkdirSync(out, { recursive: true });
	const app = process.env.PARLEY_BASE_URL
		? { base: process.env.PARLEY_BASE_URL, stop: async () => {} }
		: await startApp(port, { build: !process.argv.includes('--reuse-build') });
	const browser = await chromium.launch({
		executablePath: systemChromium,
		args: systemChromium ? ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] : []
	});
	try {
		const alice = await signUp(browser, app.base, 'alice', 'Alice Moreau');
		const bob = await signUp(browser, app.base, 'bob', 'Bob Okafor');
		const carol = await signUp(browser, app.base, 'carol', 'Carol Lin');

		await createRoom(alice.page, 'Book club');
		await say(alice.page, 'Next read: *The Left Hand of Darkness*?');
		await createRoom(alice.page, 'Design crit');
		const hike = await createRoom(alice.page, 'Weekend hike');
		await join(bob.page, hike);
		await join(carol.page, hike);
		await say(alice.page, 'Who is up for the **ridge trail** on Saturday? :sunny:');
		await say(bob.page, 'Me! Sunrise start? The forecast says clear skies until noon.');
		await say(carol.page, 'Count me in. I can drive two people from the station.');
		await say(
			alice.page,
			'Perfect. Meeting point: `North car park`, 6:30.\nBring water and snacks!'
		);
		await say(bob.page, '@' + alice.username + ' I will bring the map 🗺️');

		const statePath = `.wrangler/scripts-${port}/alice-state.json`;
		await alice.page.context().storageState({ path: statePath });
		const newcomer = await signUp(browser, app.base, 'dave', 'Dave Ito');
		const newcomerState = `.wrangler/scripts-${port}/dave-state.json`;
		await newcomer.page.context().storageState({ path: newcomerState });

		const shots: {
			name: string;
			path: string;
			as: 'alice' | 'dave' | 'nobody';
			then?: (page: Page) => Promise<void>;
		}[] = [
			{ name: 'login', path: '/login', as: 'nobody' },
			{ name: 'register', path: '/register', as: 'nobody' },
			{ name: 'home-new-user', path: '/', as: 'dave' },
			{ name: 'home', path: '/', as: 'alice' },
			{
				name: 'room',
				path: hike,
				as: 'alice',
				then: async (page) => {
					await page.getByRole('log').getByText('I will bring the map').waitFor();
				}
			},
			{
				name: 'room-actions',
				path: hike,
				as: 'alice',
				then: async (page) => {
					await page.getByRole('log').getByText('I will bring the map').waitFor();
					await page.getByRole('button', { name: 'Room actions' }).click();
					await page.getByRole('menu', { name: 'Room actions' }).waitFor();
				}
			},
			{ name: 'room-details', path: `${hike}/details?tab=members`, as: 'alice' },
			{ name: 'chat-theme', path: `${hike}/theme`, as: 'alice' },
			{ name: 'appearance', path: '/settings/appearance', as: 'alice' },
			{
				name: 'shortcuts',
				path: '/',
				as: 'alice',
				then: async (page) => {
					await page.keyboard.press('?');
					await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
				}
			}
		];

		// One browser context per person, device and theme, so the app's immutable assets are fetched
		// once and served from the HTTP cache for the following screens.
		for (const [device, options] of Object.entries(DEVICES)) {
			for (const theme of THEMES) {
				const pages = new Map<string, Page>();
				for (const shot of shots) {
					let page = pages.get(shot.as);
					if (!page) {
						const context = await browser.newContext({
							...options,
							baseURL: app.base,
							colorScheme: theme,
							reducedMotion: 'reduce',
							storageState:
								shot.as === 'alice' ? statePath : shot.as === 'dave' ? newcomerState : undefined
						});
						context.setDefaultTimeout(120_000);
						page = await context.newPage();
						pages.set(shot.as, page);
					}
					await page.goto(shot.path);
					await page.waitForLoadState('networkidle');
					await shot.then?.(page);
					const file = `${out}/${shot.name}-${theme}-${device}.png`;
					await page.screenshot({ path: file });
					console.log(`wrote ${file}`);
				}
				for (const page of pages.values()) await page.context().close();
			}
		}
	} finally {
		await browser.close();
		await app.stop();
	}
}

await main();
