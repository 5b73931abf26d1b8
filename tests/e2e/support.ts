import { expect, type Browser, type Page } from '@playwright/test';

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

export async function register(page: Page, who: Persona): Promise<void> {
	await page.goto('/register');
	await page.getByLabel('Email').fill(who.email);
	await page.getByLabel('Username').fill(who.username);
	await page.getByLabel('Display name').fill(who.displayName);
	await page.getByLabel('Password').fill(who.password);
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page).not.toHaveURL(/\/register/);
}

/** A signed-in page in a browser context of its own (its own cookies, as another browser). */
export async function signedInPage(browser: Browser, who: Persona): Promise<Page> {
	const context = await browser.newContext();
	const page = await context.newPage();
	await register(page, who);
	return page;
}
