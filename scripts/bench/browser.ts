// Chromium for the scenarios that measure a page: the system's own when there is one (else
// Playwright's), with a context signed in as a bench account through its session cookie.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from '@playwright/test';
import type { Account } from '../lib/parley-client.ts';

/** The system's Chromium, when there is one (else Playwright's own). */
export function systemChromium(): string | undefined {
	return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/** Chromium, headless; the caller closes it. */
export function launchChromium(): Promise<Browser> {
	const executablePath = systemChromium();
	return chromium.launch({
		executablePath,
		args: executablePath ? ['--no-sandbox', '--disable-gpu'] : []
	});
}

/** A browser and a context carrying `account`'s session for `base`; the caller closes the browser. */
export async function signedInBrowser(
	base: string,
	account: Account
): Promise<{ browser: Browser; context: BrowserContext }> {
	const browser = await launchChromium();
	try {
		const context = await browser.newContext();
		const [name, ...value] = account.cookie.split('=');
		await context.addCookies([{ name: name!, value: value.join('='), url: base }]);
		return { browser, context };
	} catch (error) {
		await browser.close();
		throw error;
	}
}
