import { expect, test } from './fixtures';
import type { Browser, Page } from '@playwright/test';
import { linkFromOutbox, mailedLink } from './accounts-support';

let counter = 0;

/** A unique person for this run: `alice` becomes e.g. `alice_k3x90_1`. */
export function persona(name: string) {
	// The worker's slot tells apart two workers that make the same person in the same millisecond.
	const worker = process.env.TEST_PARALLEL_INDEX ?? '0';
	const tag = `${Date.now().toString(36).slice(-4)}${worker}_${++counter}`;
	const username = `${name}_${tag}`;
	return {
		username,
		displayName: name[0]!.toUpperCase() + name.slice(1),
		email: `${username}@example.test`,
		password: `${name} has a long password`
	};
}
export type Persona = ReturnType<typeof persona>;

/** Fills in the registration form; the account exists only once the mailed link is opened. */
export async function submitRegistration(page: Page, who: Persona): Promise<void> {
	await page.goto('/register');
	await page.getByLabel('Email').fill(who.email);
	await page.getByLabel('Username').fill(who.username);
	await page.getByLabel('Display name').fill(who.displayName);
	await page.getByLabel('Password').fill(who.password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.getByRole('status')).toHaveText(
		`Check your inbox: we sent a link to ${who.email} to finish creating your account.`
	);
}

/**
 * Registers `who` through the pages a person sees: the form, then the link from their mail and its
 * button. Ends signed in on `/`. For the tests about registration itself; others use `register`.
 */
export async function registerThroughForms(page: Page, who: Persona): Promise<void> {
	await submitRegistration(page, who);
	await page.goto(await linkFromOutbox(page, who.email, 'Finish creating your Parley account'));
	await page.getByRole('button', { name: 'Create my account' }).click();
	await expect(page).toHaveURL(/\/$/);
}

/**
 * Registers `who` by the same steps as a person, the app's own: the registration form's action,
 * the link it mailed to the development outbox, and the finishing action. They go as requests from
 * the page's browser context instead of three rendered pages (registration's pages are what
 * `registerThroughForms` and accounts.e2e.ts test), so the session cookie lands in the context as
 * the button would leave it. Ends signed in on `/`.
 */
export async function register(page: Page, who: Persona): Promise<void> {
	const sent = await formAction(page, '/register', {
		email: who.email,
		username: who.username,
		displayName: who.displayName,
		password: who.password
	});
	expect(sent, `registering ${who.username}`).toMatchObject({ type: 'success' });
	const link = await mailedLink(page, who.email, 'Finish creating your Parley account');
	const token = new URL(link).hash.replace(/^#token=/, '');
	const finished = await formAction(page, '/register/finish?/finish', { token });
	expect(finished, `finishing ${who.username}'s registration`).toMatchObject({
		type: 'redirect',
		location: '/'
	});
	const cookies = await page.context().cookies();
	expect(cookies.map((cookie) => cookie.name)).toContain('parley_session');
	// Until the page's code has loaded and hydrated it, a click on a control that only works with
	// it does nothing: wait for the network to settle, as the finishing page's own navigation did.
	await page.goto('/', { waitUntil: 'networkidle' });
	await expect(page).toHaveURL(/\/$/);
}

/**
 * Submits a page's form action as the page's own script does (SvelteKit's `enhance`: same origin,
 * answered in JSON rather than a rendered page), with the browser context's cookies; cookies the
 * answer sets are kept in the context. Answers SvelteKit's result (`success`, `failure`,
 * `redirect`).
 */
async function formAction(
	page: Page,
	path: string,
	form: Record<string, string>
): Promise<{ type: string; status?: number; location?: string; data?: string }> {
	const origin = new URL(String(test.info().project.use.baseURL)).origin;
	const response = await page.request.post(path, {
		form,
		headers: { origin, accept: 'application/json', 'x-sveltekit-action': 'true' },
		maxRedirects: 0
	});
	expect(response.status(), `${path} answered ${await response.text()}`).toBe(200);
	return response.json();
}

/** A signed-in page in a browser context of its own (its own cookies, as another browser). */
export async function signedInPage(browser: Browser, who: Persona): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	await register(page, who);
	return page;
}
