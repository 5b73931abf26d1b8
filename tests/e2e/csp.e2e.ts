// The Content-Security-Policy as Chromium applies it: every main page works under it with no
// violation and no console error, and what it forbids (an injected inline script) is refused.
import { expect, test } from './fixtures';
import type { BrowserContext, Page } from '@playwright/test';
import { persona, registerThroughForms } from './support';
import { createRoom } from './ui-support';
import { expectConnected, message, say } from './realtime-support';

type Problem = { page: string; kind: string; detail: string };

/** Every CSP violation, console error and uncaught error in the context's pages, as they occur. */
async function watchForProblems(context: BrowserContext): Promise<Problem[]> {
	const problems: Problem[] = [];
	await context.exposeBinding('reportCspViolation', ({ page }, detail: string) => {
		problems.push({ page: page.url(), kind: 'securitypolicyviolation', detail });
	});
	// Init scripts are injected by the browser itself, not the page, so the policy does not apply.
	await context.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (event) => {
			const report = (window as unknown as { reportCspViolation: (d: string) => void })
				.reportCspViolation;
			report(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`);
		});
	});
	const watch = (page: Page) => {
		page.on('console', (msg) => {
			if (msg.type() === 'error')
				problems.push({ page: page.url(), kind: 'console', detail: msg.text() });
		});
		page.on('pageerror', (error) =>
			problems.push({ page: page.url(), kind: 'pageerror', detail: error.message })
		);
	};
	context.pages().forEach(watch);
	context.on('page', watch);
	return problems;
}

/** Opens `path` and checks the headers of the document itself. */
async function visit(page: Page, path: string): Promise<void> {
	const response = await page.goto(path);
	expect(response, path).not.toBeNull();
	const headers = response!.headers();
	const policy = headers['content-security-policy'] ?? '';
	const directives = new Map(
		policy.split(';').map((d) => {
			const [name = '', ...values] = d.trim().split(/\s+/);
			return [name, values] as const;
		})
	);
	expect(directives.get('frame-ancestors'), path).toEqual(["'none'"]);
	expect(directives.get('object-src'), path).toEqual(["'none'"]);
	const scripts = directives.get('script-src') ?? [];
	expect(scripts, path).toContain("'self'");
	expect(
		scripts.some((s) => s.startsWith("'nonce-")),
		path
	).toBe(true);
	expect(scripts, path).not.toContain("'unsafe-inline'");
	expect(scripts, path).not.toContain("'unsafe-eval'");
	expect(headers['x-content-type-options'], path).toBe('nosniff');
	expect(headers['referrer-policy'], path).toBe('strict-origin-when-cross-origin');
	// The development server is not a deployment: no HSTS on localhost.
	expect(headers['strict-transport-security'], path).toBeUndefined();
}

test('every main page works under the content security policy, with no violation or error', async ({
	browser
}) => {
	test.setTimeout(Math.max(test.info().timeout, 120_000));
	const visitorContext = await browser.newContext();
	const visitorProblems = await watchForProblems(visitorContext);
	const visitor = await visitorContext.newPage();
	await visit(visitor, '/login');
	await expect(visitor.getByRole('heading', { name: 'Log in' })).toBeVisible();
	await visit(visitor, '/register');
	await expect(visitor.getByRole('button', { name: 'Create account' })).toBeVisible();

	const context = await browser.newContext();
	const problems = await watchForProblems(context);
	const alice = await context.newPage();
	// A stored dark theme: app.html's inline script applies it before the first paint.
	await alice.addInitScript(() =>
		localStorage.setItem('parley.preferences', JSON.stringify({ theme: 'dark' }))
	);
	// Through the registration pages themselves: they are main pages too.
	await registerThroughForms(alice, persona('alice'));
	await visit(alice, '/');
	await expect(alice.locator('html')).toHaveAttribute('data-theme', 'dark');

	const room = await createRoom(alice, 'Policy check');
	await visit(alice, room);
	// The realtime socket (connect-src 'self' covers ws: to the same host) and a rendered message.
	await expectConnected(alice);
	await say(alice, 'Hello **there**, see https://example.com and `code`');
	await expect(message(alice, 'Hello there')).toBeVisible();
	await alice.getByRole('button', { name: 'Insert emoji' }).click();
	await expect(alice.getByRole('dialog', { name: 'Emoji' })).toBeVisible();
	await alice.keyboard.press('Escape');

	for (const path of [
		'/settings/profile',
		'/settings/account',
		'/settings/appearance',
		'/settings/sessions',
		'/friends',
		'/people'
	]) {
		await visit(alice, path);
		await expect(alice.getByRole('heading', { level: 1 }).first(), path).toBeVisible();
	}

	expect(visitorProblems).toEqual([]);
	expect(problems).toEqual([]);
	await visitorContext.close();
	await context.close();
});

test("mallory's injected inline script does not run, and the browser reports it", async ({
	browser
}) => {
	const context = await browser.newContext();
	const problems = await watchForProblems(context);
	const page = await context.newPage();
	await visit(page, '/login');
	// Markup that reached the DOM some other way than the renderer, as an XSS would.
	await page.evaluate(() => {
		const script = document.createElement('script');
		script.textContent = 'window.malloryRan = true';
		document.body.appendChild(script);
		const img = document.createElement('img');
		img.setAttribute('onerror', 'window.malloryRan = true');
		img.src = 'data:,not an image';
		document.body.appendChild(img);
	});
	await expect
		.poll(() => problems.filter((p) => p.kind === 'securitypolicyviolation').map((p) => p.detail))
		.toEqual(['script-src-elem blocked inline', 'script-src-attr blocked inline']);
	expect(await page.evaluate(() => 'malloryRan' in window)).toBe(false);
	await context.close();
});

test('static files and the built scripts are not sniffed either', async ({ page }) => {
	const response = await page.goto('/favicon.svg');
	expect(response?.headers()['x-content-type-options']).toBe('nosniff');
	// A script the app loads: served from the build's assets, before the worker runs.
	await page.goto('/login');
	const src = await page.locator('link[rel="modulepreload"]').first().getAttribute('href');
	const script = await page.request.get(new URL(src!, page.url()).href);
	expect(script.headers()['x-content-type-options']).toBe('nosniff');
	expect(script.headers()['referrer-policy']).toBe('strict-origin-when-cross-origin');
});
