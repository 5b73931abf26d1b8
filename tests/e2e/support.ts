import { expect, type Browser, type Page } from '@playwright/test';
import { linkFromOutbox } from './accounts-support';

let counter = 0;

/** A unique person for this run: `alice` becomes e.g. `alice_k3x9_1`. */
export function persona(name: string) {
	const tag = `${Date.now().toString(36).slice(-4)}_${++counter}`;
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

/** Registers `who` as a person would: the form, then the link from their mail. Ends signed in. */
export async function register(page: Page, who: Persona): Promise<void> {
	await submitRegistration(page, who);
	await page.goto(await linkFromOutbox(page, who.email, 'Finish creating your Parley account'));
	await page.getByRole('button', { name: 'Create my account' }).click();
	await expect(page).toHaveURL(/\/$/);
}

/** A signed-in page in a browser context of its own (its own cookies, as another browser). */
export async function signedInPage(browser: Browser, who: Persona): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	await register(page, who);
	return page;
}
